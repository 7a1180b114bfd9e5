import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/api/client.js';
import { SignInGate, type SessionClient } from '../src/web/SignInGate.js';
import { useWebSession } from '../src/web/session.js';
import { createFakeClient, renderWithClient, type FakeClientOptions } from './fake-client.js';

function SignedInApp() {
  const session = useWebSession();
  return (
    <div>
      <p>The app for {session?.user}</p>
      <button type="button" onClick={session?.signOut}>
        Sign out
      </button>
    </div>
  );
}

function renderGate(options: FakeClientOptions = {}) {
  const client = createFakeClient({ kind: 'web', ...options });
  renderWithClient(
    <SignInGate client={client as unknown as SessionClient}>
      <SignedInApp />
    </SignInGate>,
    { client },
  );
  return client;
}

async function signIn(password: string) {
  const user = userEvent.setup();
  await user.type(await screen.findByLabelText('Password'), password);
  await user.click(screen.getByRole('button', { name: 'Sign in' }));
  return user;
}

describe('SignInGate', () => {
  it('shows nothing of the app until signed in, and says when the password is wrong', async () => {
    const client = renderGate({ mustChangePassword: false });
    await signIn('guess');
    expect(await screen.findByRole('alert')).toHaveTextContent('Wrong user name or password.');
    expect(screen.queryByText(/The app for/)).toBeNull();
    // A wrong password answers 401, which must not be mistaken for an expired session.
    expect(screen.queryByText(/session has ended/)).toBeNull();
    expect(screen.getByLabelText('Password')).toHaveValue('');

    await signIn('initial-password');
    expect(await screen.findByText('The app for admin')).toBeVisible();
    expect(client.signIn).toHaveBeenLastCalledWith('initial-password');
  });

  it('asks for the password before calling the server', async () => {
    const client = renderGate();
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Sign in' }));
    expect(screen.getByText('Enter the password.')).toBeVisible();
    expect(client.signIn).not.toHaveBeenCalled();
  });

  it('explains that sign-in is slowed down after too many failures', async () => {
    const client = renderGate();
    client.signIn!.mockRejectedValueOnce(new ApiError('TOO_MANY_ATTEMPTS', 'Too many failed sign-ins; try again in 30 s.', 429));
    await signIn('guess');
    expect(await screen.findByRole('alert')).toHaveTextContent('try again in 30 s');
    expect(screen.getByText(/sign-in is slowed down/)).toBeVisible();
  });

  it('forces a new password on the first sign-in and checks it before sending', async () => {
    const client = renderGate();
    const user = await signIn('initial-password');
    expect(await screen.findByRole('heading', { name: 'Choose your password' })).toBeVisible();
    expect(screen.queryByText(/The app for/)).toBeNull();

    const current = screen.getByLabelText('Current password');
    const next = screen.getByLabelText('New password');
    const repeat = screen.getByLabelText('Repeat new password');
    const submit = screen.getByRole('button', { name: 'Change password' });

    await user.type(current, 'initial-password');
    await user.type(next, 'short');
    await user.type(repeat, 'short');
    await user.click(submit);
    expect(await screen.findByText('Use at least 12 characters.')).toBeVisible();
    expect(next).toHaveAttribute('aria-invalid', 'true');

    await user.clear(next);
    await user.type(next, 'a long new passphrase');
    await user.clear(repeat);
    await user.type(repeat, 'a long new passphrasf');
    await user.click(submit);
    expect(await screen.findByText('The two new passwords do not match.')).toBeVisible();

    await user.clear(next);
    await user.type(next, 'initial-password');
    await user.clear(repeat);
    await user.type(repeat, 'initial-password');
    await user.click(submit);
    expect(await screen.findByText('Choose a password different from the current one.')).toBeVisible();
    expect(client.changePassword).not.toHaveBeenCalled();

    await user.clear(next);
    await user.type(next, 'a long new passphrase');
    await user.clear(repeat);
    await user.type(repeat, 'a long new passphrase');
    await user.click(submit);
    expect(await screen.findByText('The app for admin')).toBeVisible();
    expect(client.changePassword).toHaveBeenCalledWith('initial-password', 'a long new passphrase');
  });

  it("shows the server's refusal of the current password", async () => {
    const client = renderGate();
    const user = await signIn('initial-password');
    await user.type(await screen.findByLabelText('Current password'), 'not-the-password');
    await user.type(screen.getByLabelText('New password'), 'a long new passphrase');
    await user.type(screen.getByLabelText('Repeat new password'), 'a long new passphrase');
    await user.click(screen.getByRole('button', { name: 'Change password' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The current password is wrong.');
    expect(client.changePassword).toHaveBeenCalledTimes(1);
    expect(screen.queryByText(/The app for/)).toBeNull();
  });

  it('goes back to sign-in with a note when the session expires', async () => {
    const client = renderGate({ session: { signedIn: true, user: 'admin', csrfToken: 't' } });
    expect(await screen.findByText('The app for admin')).toBeVisible();
    client.expireSession!();
    expect(await screen.findByText(/Your session has ended/)).toBeVisible();
    expect(screen.getByLabelText('Password')).toBeVisible();
    expect(screen.queryByText(/The app for/)).toBeNull();
  });

  it('signs out', async () => {
    const client = renderGate({ session: { signedIn: true, user: 'admin', csrfToken: 't' } });
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Sign out' }));
    expect(await screen.findByText('You are signed out.')).toBeVisible();
    expect(client.signOut).toHaveBeenCalled();
  });

  it('offers to try again when the connector does not answer', async () => {
    const client = createFakeClient({ kind: 'web' });
    client.session!.mockRejectedValueOnce(new ApiError('UNREACHABLE', 'The connector does not answer. Is the agent still running?'));
    renderWithClient(
      <SignInGate client={client as unknown as SessionClient}>
        <SignedInApp />
      </SignInGate>,
      { client },
    );
    expect(await screen.findByRole('alert')).toHaveTextContent('Is the agent still running?');
    await userEvent.setup().click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByLabelText('Password')).toBeVisible();
  });
});
