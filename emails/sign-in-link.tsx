import {
  Body,
  Button,
  Container,
  Head,
  Heading,
  Html,
  Preview,
  Section,
  Text,
} from '@react-email/components';
import { render, toPlainText } from '@react-email/render';
import { createElement } from 'react';

/**
 * The email that lets a person into Duely without a terminal: an invitation from a colleague, or the sign-in link
 * they asked for on the sign-in page. Not a debtor email (no unsubscribe footer): it goes to the team.
 */
export const SIGN_IN_LINK_VERSION = 'sign-in-link@1';

export interface SignInLinkProps {
  kind: 'invitation' | 'sign_in';
  /** The person addressed, when their name is known. */
  name?: string | null;
  /** One entry per company the link opens (a person may belong to several). */
  companies: { name: string; url: string; role: string }[];
  /** Who invited them (invitations only). */
  invitedBy?: string | null;
  /** How long the link works, in words ("7 days", "15 minutes"). */
  validFor: string;
}

const body = { backgroundColor: '#f4f5f7', fontFamily: 'Helvetica, Arial, sans-serif', color: '#1f2933' };
const container = { backgroundColor: '#ffffff', margin: '24px auto', padding: '32px', maxWidth: '560px' };
const paragraph = { fontSize: '15px', lineHeight: '22px', margin: '0 0 12px' };
const small = { fontSize: '12px', color: '#6b7280', lineHeight: '18px', margin: '12px 0 0' };
const button = { backgroundColor: '#1f4fd1', color: '#ffffff', padding: '10px 18px', borderRadius: '4px' };

export function signInLinkSubject(p: SignInLinkProps): string {
  const company = p.companies.length === 1 ? p.companies[0]!.name : 'your companies';
  return p.kind === 'invitation'
    ? `You are invited to ${company} on Duely`
    : `Your sign-in link for ${company} on Duely`;
}

export function SignInLink(p: SignInLinkProps) {
  return (
    <Html lang="en">
      <Head>
        <meta name="viewport" content="width=device-width, initial-scale=1" />
      </Head>
      <Preview>{signInLinkSubject(p)}</Preview>
      <Body style={body}>
        <Container style={container}>
          <Heading as="h1" style={{ fontSize: '20px', margin: '0 0 16px' }}>
            {p.kind === 'invitation' ? 'Join your team on Duely' : 'Sign in to Duely'}
          </Heading>
          <Text style={paragraph}>Hi{p.name ? ` ${p.name}` : ''},</Text>
          <Text style={paragraph}>
            {p.kind === 'invitation'
              ? `${p.invitedBy ?? 'A colleague'} invited you to work on accounts receivable in Duely.`
              : 'Here is the sign-in link you asked for.'}
          </Text>
          {p.companies.map((c) => (
            <Section key={c.url} style={{ margin: '16px 0' }}>
              <Text style={paragraph}>
                {c.name} — as {c.role}
              </Text>
              <Button href={c.url} style={button}>
                {p.kind === 'invitation' ? `Join ${c.name}` : `Sign in to ${c.name}`}
              </Button>
            </Section>
          ))}
          <Text style={small}>
            The link works once and expires in {p.validFor}. If you did not expect this email, ignore it:
            nobody can sign in without the link.
          </Text>
        </Container>
      </Body>
    </Html>
  );
}

export async function renderSignInLink(
  p: SignInLinkProps,
): Promise<{ subject: string; html: string; text: string; templateVersion: string }> {
  const html = await render(createElement(SignInLink, p));
  return {
    subject: signInLinkSubject(p),
    html,
    text: toPlainText(html),
    templateVersion: SIGN_IN_LINK_VERSION,
  };
}
