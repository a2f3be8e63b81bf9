// Leaflet's attribution control takes HTML: the configured text is escaped before it goes in.
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
