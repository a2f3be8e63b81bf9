// Asking for a password on the terminal without echoing it: stdin in raw mode, read up to Enter,
// Backspace handled, Ctrl-C and Ctrl-D on an empty line cancel. Only for a TTY; scripts give the
// password on stdin instead (--password-stdin).
import { CamgateError } from '../../lib/errors';

export interface RawInput {
  setRawMode(mode: boolean): unknown;
  resume(): unknown;
  pause(): unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  on(event: 'data', listener: (chunk: string) => void): unknown;
  off(event: 'data', listener: (chunk: string) => void): unknown;
}

export function promptHidden(question: string, input: RawInput, output: { write(text: string): unknown }): Promise<string> {
  output.write(question);
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (err?: Error) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || (ch === '\u0004' && text === '')) return finish(new CamgateError('cancelled'));
        if (ch === '\u007f' || ch === '\b') text = [...text].slice(0, -1).join('');
        else if (ch >= ' ') text += ch;
      }
    };
    input.setEncoding('utf8');
    input.setRawMode(true);
    input.resume();
    input.on('data', onData);
  });
}
