// The camgate version, from package.json (compiled in: the same in a checkout, an npm install
// and a bundled executable).
import pkg from '../package.json';

export const CAMGATE_VERSION: string = pkg.version;
