/**
 * The run's etcd is real: leases expire and take their keys with them. Coordination (election,
 * worker registry) builds on exactly this behaviour.
 */
import { Etcd3 } from 'etcd3';
import { afterAll, describe, expect, it } from 'vitest';
import { etcdEndpoints } from '../../support/database.js';

describe('test etcd', () => {
  const client = new Etcd3({ hosts: etcdEndpoints() });
  afterAll(() => client.close());

  it('stores keys, and a revoked lease takes its keys with it', async () => {
    await client.put('dagrun-test/plain').value('v');
    expect(await client.get('dagrun-test/plain').string()).toBe('v');

    const lease = client.lease(2, { autoKeepAlive: false });
    await lease.put('dagrun-test/leased').value('alive');
    expect(await client.get('dagrun-test/leased').string()).toBe('alive');
    await lease.revoke();
    expect(await client.get('dagrun-test/leased').string()).toBeNull();
  });
});
