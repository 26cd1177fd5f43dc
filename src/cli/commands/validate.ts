/** `dagrun validate FILE...`: check DAG files without touching any store. */
import type { Command } from 'commander';
import { EXIT_PROBLEM, type GlobalOptions, runAction } from '../context.js';
import { readDagFile } from '../dag-files.js';
import { formatIssue } from '../format.js';

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description(
      'validate DAG files; print every error with its line:column (or, with --json, the normalized graph)',
    )
    .argument('<files...>', 'YAML DAG files')
    .option('--json', 'print the errors or the normalized graph as JSON')
    .action(async (files: string[], options: { json?: boolean }, command: Command) => {
      await runAction(command.optsWithGlobals<GlobalOptions>(), async ({ config, out }) => {
        const results = [];
        for (const file of files) results.push(await readDagFile(file, config.maxSpecBytes));
        const failed = results.some((r) => !r.ok);
        if (options.json) {
          const json = results.map((r) => (r.ok ? { file: r.file, ok: true, dag: r.dag } : r));
          out(JSON.stringify(files.length === 1 ? json[0] : json, null, 2));
        } else {
          for (const result of results) {
            if (result.ok) {
              out(`${result.file}: ok (${result.dag.name}, ${result.dag.tasks.length} tasks)`);
            } else {
              const n = result.issues.length;
              out(`${result.file}: ${n} error${n === 1 ? '' : 's'}`);
              for (const issue of result.issues) out(`  ${formatIssue(issue, result.file)}`);
            }
          }
        }
        return failed ? EXIT_PROBLEM : 0;
      });
    });
}
