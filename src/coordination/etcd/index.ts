export { EtcdCoordination, type EtcdCoordinationOptions } from './etcd-coordination.js';
