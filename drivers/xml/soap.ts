// SOAP envelope helpers: find the Body and read a Fault, whatever the envelope prefix.
import type { XmlElement } from './safe-xml';
import { child, descendant, descendants, textOf } from './query';
import { printableLine } from '../../lib/text';

/** A fault reason is one line of a message: longer ones are cut before anything reads them. */
export const FAULT_REASON_MAX_CHARS = 512;
const FAULT_CODE_MAX_CHARS = 128;

export interface SoapFault {
  /** Code and subcode values without prefixes, e.g. ["Sender", "NotAuthorized"]. */
  codes: string[];
  reason: string;
}

/** The Body element of a SOAP envelope, or undefined when the document is not an Envelope. */
export function soapBody(root: XmlElement): XmlElement | undefined {
  if (root.name !== 'Envelope') return undefined;
  return child(root, 'Body');
}

/** The Fault in a SOAP Body, its texts cut to a bounded, printable line (a device may send
 * megabytes of reason: every message, log line and regex after this sees at most a few hundred
 * characters of it). */
export function soapFault(body: XmlElement | undefined): SoapFault | undefined {
  const fault = child(body, 'Fault');
  if (!fault) return undefined;
  // SOAP 1.2: Code/Value + Subcode/Value...; SOAP 1.1: faultcode/faultstring.
  const codes = descendants(child(fault, 'Code'), 'Value')
    .map((v) => textOf(v))
    .concat([textOf(child(fault, 'Code')), textOf(child(fault, 'faultcode'))])
    .filter((v): v is string => !!v)
    .map((v) => printableLine(v, FAULT_CODE_MAX_CHARS).replace(/^.*:/, ''));
  const reason = textOf(descendant(child(fault, 'Reason'), 'Text')) ?? textOf(child(fault, 'Reason')) ?? textOf(child(fault, 'faultstring')) ?? '';
  return { codes, reason: printableLine(reason, FAULT_REASON_MAX_CHARS) };
}
