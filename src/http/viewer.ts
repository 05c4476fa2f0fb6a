/** Who is signed in: set by the session check before an `person` or `admin` route runs. */
export interface Viewer {
  agentId: string;
  accountId: string;
  accountName: string;
  name: string;
  email: string;
  role: 'admin' | 'supervisor' | 'agent';
  /** The teams the person belongs to. */
  teamIds: string[];
  /** The account hides unassigned conversations from agents. */
  hideUnassigned: boolean;
  /** The session's id (the SHA-256 of its token). */
  sessionId: string;
  /** The language the person chose for the inbox; null: the browser's choice. */
  language: 'en' | 'he' | null;
}
