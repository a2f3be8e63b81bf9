export { parseXml, hasUnsafeDeclaration, DEFAULT_MAX_XML_BYTES } from './safe-xml';
export type { XmlElement, ParseXmlOptions } from './safe-xml';
export { child, childrenNamed, descendant, descendants, path, textOf, childText, attr, escapeXml } from './query';
export { soapBody, soapFault } from './soap';
export type { SoapFault } from './soap';
