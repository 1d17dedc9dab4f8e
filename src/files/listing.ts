/**
 * The HTML page listing a directory's entries.
 * @module
 */

/** One entry of a directory listing. */
export interface ListingEntry {
  /** The file name, as on disk. */
  readonly name: string;
  /** Whether it is a directory (its link gets a trailing `/`). */
  readonly directory: boolean;
  /** Its size in bytes (not shown for directories). */
  readonly size: number;
  /** Its modification time. */
  readonly modified: Date;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

/**
 * Renders an HTML listing of a directory: directories first, then files, each group
 * sorted by name (UTF-16 code units, so the order does not depend on the locale).
 *
 * Names are HTML-escaped in the text and percent-encoded, then HTML-escaped, in the
 * relative links, so any file name is shown as text and links to itself. Each row shows
 * the size (files only, in B, KiB, MiB, …) and the modification time in UTC. A link to
 * the parent (`../`) heads the list except at the root, `/`. When `more` entries were
 * left out, a note after the table says how many.
 *
 * @param path The decoded URL path of the directory, with leading and trailing `/`.
 * @param entries The entries to list; hidden ones must already be left out.
 * @param more How many entries the directory holds beyond `entries`, not listed.
 * @returns A complete HTML document.
 *
 * @example List one file
 * ```ts
 * import { renderListing } from "./listing.ts";
 * const html = renderListing("/docs/", [
 *   { name: "a b.txt", directory: false, size: 2048, modified: new Date(0) },
 * ]);
 * html.includes('<a href="a%20b.txt">a b.txt</a>'); // true
 * ```
 */
export function renderListing(
  path: string,
  entries: readonly ListingEntry[],
  more = 0,
): string {
  const sorted = [...entries].sort(directoriesThenName);
  const rows = sorted.map((entry) => {
    const suffix = entry.directory ? "/" : "";
    const href = escapeHtml(encodeURIComponent(entry.name) + suffix);
    const size = entry.directory ? "" : formatSize(entry.size);
    const iso = entry.modified.toISOString();
    const shown = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
    return `<tr><td><a href="${href}">${escapeHtml(entry.name + suffix)}</a></td>` +
      `<td>${size}</td><td><time datetime="${iso}">${shown}</time></td></tr>`;
  });
  if (path !== "/") rows.unshift('<tr><td><a href="../">../</a></td><td></td><td></td></tr>');
  const title = `Index of ${escapeHtml(path)}`;
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">',
    `<title>${title}</title></head>`,
    `<body><h1>${title}</h1>`,
    "<table><thead><tr><th>Name</th><th>Size</th><th>Modified (UTC)</th></tr></thead>",
    `<tbody>${rows.join("\n")}</tbody></table>`,
    ...more > 0
      ? [`<p>… and ${more} more ${more === 1 ? "entry" : "entries"} not listed.</p>`]
      : [],
    "</body></html>",
    "",
  ].join("\n");
}

function directoriesThenName(a: ListingEntry, b: ListingEntry): number {
  if (a.directory !== b.directory) return a.directory ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

function formatSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}
