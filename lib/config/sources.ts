// Where a configuration value came from, for error messages and `config show`.

export type ConfigSource = { kind: 'default' } | { kind: 'file'; file: string; line?: number } | { kind: 'env'; name: string } | { kind: 'flag'; name: string };

export function describeSource(source: ConfigSource): string {
  switch (source.kind) {
    case 'default':
      return 'default';
    case 'file':
      return source.line ? `${source.file}:${source.line}` : source.file;
    case 'env':
      return `env ${source.name}`;
    case 'flag':
      return `flag ${source.name}`;
  }
}
