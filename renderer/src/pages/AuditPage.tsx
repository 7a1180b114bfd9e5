export function AuditPage() {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Audit</h1>
    </section>
  );
}
