// CSV cells that a spreadsheet opens as text, never as a formula: for every CSV the project
// writes (the agent's label export, the central's reports) and reads back.

/**
 * A cell a spreadsheet would take as a formula (OWASP "CSV injection"): one that starts with
 * = + - or @ (after spaces), or with a tab or carriage return. Quotes before it count as part of
 * the start, so escaping is reversible for any text. Plain numbers (-30.5) are data, not formulas.
 */
const FORMULA_START = /^'*(?:\s*[=+\-@]|[\t\r])/;
const PLAIN_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

export function startsFormula(cell: string): boolean {
  return FORMULA_START.test(cell) && !PLAIN_NUMBER.test(cell);
}

/** A cell for export: a leading ' makes spreadsheets show the text instead of running it. */
export function escapeCsvCell(cell: string): string {
  return startsFormula(cell) ? `'${cell}` : cell;
}

/** The inverse of escapeCsvCell: an exported file edited and imported gives back the same text. */
export function unescapeCsvCell(cell: string): string {
  return cell.startsWith("'") && startsFormula(cell.slice(1)) ? cell.slice(1) : cell;
}
