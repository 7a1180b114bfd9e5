export function App({ version }: { version?: string | undefined }) {
  return (
    <main className="placeholder">
      <h1>Skybridge connector</h1>
      <p>
        The desktop UI arrives in a later release; use the <code>skybridge</code> CLI meanwhile.
      </p>
      <pre>
        <code>skybridge --help</code>
      </pre>
      {version ? <p className="version">Version {version}</p> : null}
    </main>
  );
}
