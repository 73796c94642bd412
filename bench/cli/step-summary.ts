/** GitHub Actions' job summary: `$GITHUB_STEP_SUMMARY` names a file each step may append Markdown to. */
import { appendFile } from 'node:fs/promises';

/**
 * Appends `markdown` to the file `$GITHUB_STEP_SUMMARY` names; does nothing outside GitHub Actions.
 * Resolves to whether it wrote. `env` is a parameter so tests need not touch the process environment.
 */
export async function appendStepSummary(markdown: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const file = env.GITHUB_STEP_SUMMARY;
  if (file === undefined || file === '') return false;
  await appendFile(file, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  return true;
}
