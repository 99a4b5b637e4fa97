import { Body, Container, Head, Heading, Html, Preview } from '@react-email/components';
import type { ReactNode } from 'react';
import type { BaseEmailProps } from '../email-props';
import { EmailFooter } from './email-footer';

const body = { backgroundColor: '#f4f5f7', fontFamily: 'Helvetica, Arial, sans-serif', color: '#1f2933' };
const container = { backgroundColor: '#ffffff', margin: '24px auto', padding: '32px', maxWidth: '640px' };
const heading = { fontSize: '20px', margin: '0 0 16px' };

export function EmailLayout(props: {
  base: BaseEmailProps;
  preview: string;
  title: string;
  children: ReactNode;
}) {
  const { base } = props;
  return (
    <Html lang={base.locale}>
      <Head />
      <Preview>{props.preview}</Preview>
      <Body style={body}>
        <Container style={container}>
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
