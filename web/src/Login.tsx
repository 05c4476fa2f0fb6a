import { useEffect, useState } from 'preact/hooks';
import { ApiFailure, get, post, type User } from './api';
import { t } from './i18n';
import { navigate } from './router';
import { user } from './store';

export function Login() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      const reply = await post<{ user: User }>('/session', { email, password });
      user.value = reply.user;
      navigate('/app', true);
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="auth">
      <form class="auth-card" onSubmit={submit}>
        <h1>{t('signInTitle')}</h1>
        <label>
          {t('email')}
          <input type="email" name="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label>
          {t('password')}
          <input type="password" name="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy}>
          {t('signIn')}
        </button>
      </form>
    </main>
  );
}

export function Invitation({ token }: { token: string }) {
  const [invited, setInvited] = useState<{ name: string; email: string } | null | undefined>(undefined);
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    get<{ invitation?: { name: string; email: string }; name?: string; email?: string }>(`/invitations/${encodeURIComponent(token)}`).then(
      (reply) => setInvited(reply.invitation ?? { name: reply.name ?? '', email: reply.email ?? '' }),
      () => setInvited(null),
    );
  }, [token]);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError('');
    try {
      const reply = await post<{ user: User }>(`/invitations/${encodeURIComponent(token)}`, { password });
      user.value = reply.user;
      navigate('/app', true);
    } catch (failure) {
      setError(failure instanceof ApiFailure ? failure.message : String(failure));
    }
  };
  if (invited === undefined) return <main class="auth" aria-busy="true" />;
  if (invited === null)
    return (
      <main class="auth">
        <div class="auth-card">
          <h1>{t('invitationTitle')}</h1>
          <p role="alert">{t('invitationInvalid')}</p>
          <a href="/app/login">{t('signIn')}</a>
        </div>
      </main>
    );
  return (
    <main class="auth">
      <form class="auth-card" onSubmit={submit}>
        <h1>{t('invitationTitle')}</h1>
        <p>{t('invitationFor', { name: invited.name, email: invited.email })}</p>
        <input type="email" hidden autocomplete="username" value={invited.email} readOnly />
        <label>
          {t('password')}
          <input type="password" autocomplete="new-password" required minLength={10} value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        <p class="hint">{t('passwordRule')}</p>
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" class="primary">
          {t('setPassword')}
        </button>
      </form>
    </main>
  );
}
