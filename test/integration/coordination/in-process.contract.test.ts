import { InProcessCoordination } from '../../../src/coordination/in-process.js';
import { describeCoordinationContract } from './coordination.contract.js';

describeCoordinationContract('in-process', () => new InProcessCoordination());
