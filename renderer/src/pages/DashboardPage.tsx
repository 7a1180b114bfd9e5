export function DashboardPage() {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Dashboard</h1>
    </section>
  );
}
