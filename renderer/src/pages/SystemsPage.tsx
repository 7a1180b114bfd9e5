export function SystemsPage() {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Systems</h1>
    </section>
  );
}
