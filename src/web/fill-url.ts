/**
 * The address of a form's web page for filling it in (docs/web-forms.md): for project members
 * `{publicUrl}/fill/{projectId}/{formId}`, and for a public link the same with the link's token
 * in the fragment (`#key=fk_pub_…`), which browsers never send to the server.
 */
export function fillUrl(publicUrl: string, projectId: number, xmlFormId: string, token?: string): string {
  const url = `${publicUrl}/fill/${projectId}/${encodeURIComponent(xmlFormId)}`;
  return token === undefined ? url : `${url}#key=${encodeURIComponent(token)}`;
}
