import { EtcdCoordination } from '../../../src/coordination/etcd/index.js';
import { etcdEndpoints } from '../../support/database.js';
import { describeCoordinationContract } from './coordination.contract.js';
import { uniquePrefix } from './support.js';

describeCoordinationContract(
  'etcd',
  () => new EtcdCoordination({ endpoints: etcdEndpoints(), prefix: uniquePrefix(), leaseTtlSeconds: 2 }),
);
