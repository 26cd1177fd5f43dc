import { describe, expect, it } from 'vitest';
import { envName, fileSafe, inheritedEnv } from '../../../src/workers/executors/task-env.js';

describe('task environment names', () => {
  it('upper-cases and replaces what a shell cannot read', () => {
    expect(envName('fetch-data')).toBe('FETCH_DATA');
    expect(envName('batchSize')).toBe('BATCHSIZE');
    expect(envName('a.b c')).toBe('A_B_C');
  });

  it('makes task ids safe as file names', () => {
    expect(fileSafe('../etc/passwd')).toBe('.._etc_passwd');
  });

  it('inherits PATH and HOME only, by default', () => {
    expect(
      inheritedEnv({ PATH: '/bin', HOME: '/h', DATABASE_URL: 'postgres://secret', SHELL: '/bin/zsh' }),
    ).toEqual({
      PATH: '/bin',
      HOME: '/h',
    });
    expect(inheritedEnv({ PATH: '/bin', LANG: 'C.UTF-8' }, ['PATH', 'LANG', 'TZ'])).toEqual({
      PATH: '/bin',
      LANG: 'C.UTF-8',
    });
  });
});
