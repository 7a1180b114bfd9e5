export function PairingPage() {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Pairing</h1>
    </section>
  );
}
