import { Body, Container, Head, Heading, Html, Preview } from '@react-email/components';
import type { ReactNode } from 'react';
import type { BaseEmailProps } from '../email-props';
import { PlainText } from '../plain-text';
import { EmailFooter, emailFooterText } from './email-footer';

const body = { backgroundColor: '#f4f5f7', fontFamily: 'Helvetica, Arial, sans-serif', color: '#1f2933' };
const container = { backgroundColor: '#ffffff', margin: '24px auto', padding: '32px', maxWidth: '640px' };
const heading = { fontSize: '20px', margin: '0 0 16px' };

/**
 * Phones: the content takes the screen's width (viewport meta) and the invoice tables stack, one invoice per
 * block with each value labelled (data-label), instead of overflowing sideways. Clients without media queries
 * keep the plain table.
 */
const PHONE_CSS = `@media only screen and (max-width: 480px) {
  .email-container { padding: 16px !important; margin: 0 auto !important; }
  table.dataTable thead { display: none; }
  table.dataTable tr { display: block; border-bottom: 1px solid #d2d6dc; padding: 6px 0; }
  table.dataTable td { display: block; border: 0 !important; text-align: left !important; padding: 2px 4px !important; white-space: normal !important; }
  table.dataTable td[data-label]::before { content: attr(data-label) ": "; color: #6b7280; }
  table.dataTable td:empty { display: none; }
}`;

export function EmailLayout(props: {
  base: BaseEmailProps;
  preview: string;
  title: string;
  children: ReactNode;
}) {
  const { base } = props;
  return (
    <Html lang={base.locale}>
      <Head>
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <style>{PHONE_CSS}</style>
      </Head>
      <Preview>{props.preview}</Preview>
      <Body style={body}>
        <Container style={container} className="email-container">
          <Heading as="h1" style={heading}>
            {props.title}
          </Heading>
          {props.children}
          <EmailFooter sender={base.sender} unsubscribeUrl={base.unsubscribeUrl} />
        </Container>
      </Body>
    </Html>
  );
}

/**
 * The plain-text part of an email in EmailLayout: html-to-text reads only <body> (the preview is skipped), where
 * Body and Container are each a layout table (a block) around a cell (a block of its own).
 */
export function emailLayoutText(
  base: BaseEmailProps,
  title: string,
  content: (t: PlainText) => void,
): string {
  const t = new PlainText();
  t.open(2).open(1).open(2).open(1);
  t.h1(title);
  content(t);
  emailFooterText(t, base.sender, base.unsubscribeUrl);
  t.close(1).close(2).close(1).close(2);
  return t.toString();
}
