// Fixture access for tests compiled to dist/test/drivers/**: the XML stays in the source tree.
import fs from 'node:fs';
import path from 'node:path';

export const FIXTURE_DIR = path.resolve(__dirname, '../../../../test/drivers/fixtures/onvif');

export function fixture(name: string): string {
  return fs.readFileSync(path.join(FIXTURE_DIR, name), 'utf8');
}

/** Every .xml fixture, as "vendor/File.xml". */
export function allFixtures(): string[] {
  const out: string[] = [];
  for (const dir of fs.readdirSync(FIXTURE_DIR)) {
    const full = path.join(FIXTURE_DIR, dir);
    if (!fs.statSync(full).isDirectory()) continue;
    for (const f of fs.readdirSync(full)) if (f.endsWith('.xml')) out.push(`${dir}/${f}`);
  }
  return out.sort();
}
