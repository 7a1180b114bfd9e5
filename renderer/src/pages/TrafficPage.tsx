export function TrafficPage() {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Traffic</h1>
    </section>
  );
}
