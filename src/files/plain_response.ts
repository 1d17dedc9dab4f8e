/**
 * The short plain-text responses of the static-file handler (301, 400, 404, 405, 416, 500):
 * no body reveals a file-system path.
 * @module
 */

const STATUS_TEXT = {
  301: "Moved Permanently",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  416: "Range Not Satisfiable",
  500: "Internal Server Error",
} as const;

/** A short plain-text response with `status`'s text as its body, left out for HEAD. */
export function plainResponse(
  status: keyof typeof STATUS_TEXT,
  method: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(method === "HEAD" ? null : STATUS_TEXT[status], {
    status,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
      ...headers,
    },
  });
}
