// Leaflet's divIcon takes HTML: text from the ledger or the translations is escaped before it goes in.
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
