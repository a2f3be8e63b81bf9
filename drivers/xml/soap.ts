// SOAP envelope helpers: find the Body and read a Fault, whatever the envelope prefix.
import type { XmlElement } from './safe-xml';
import { child, descendant, descendants, textOf } from './query';

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

export function soapFault(body: XmlElement | undefined): SoapFault | undefined {
  const fault = child(body, 'Fault');
  if (!fault) return undefined;
  // SOAP 1.2: Code/Value + Subcode/Value...; SOAP 1.1: faultcode/faultstring.
  const codes = descendants(child(fault, 'Code'), 'Value')
    .map((v) => textOf(v))
    .concat([textOf(child(fault, 'Code')), textOf(child(fault, 'faultcode'))])
    .filter((v): v is string => !!v)
    .map((v) => v.replace(/^.*:/, ''));
  const reason = textOf(descendant(child(fault, 'Reason'), 'Text')) ?? textOf(child(fault, 'Reason')) ?? textOf(child(fault, 'faultstring')) ?? '';
  return { codes, reason };
}
