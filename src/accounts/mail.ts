/**
 * Outgoing email (password resets). With the default `log` transport the composed message is
 * written to the server log instead of being sent, so a single machine without a mail server still
 * works: the operator reads the reset link there. That is the one place a secret (the reset link)
 * is logged on purpose; production installs should use `smtp`.
 */
import type { Transporter } from 'nodemailer';
import type { MailSettings } from '../config/config.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export type SendMail = (message: MailMessage) => Promise<void>;

export interface MailLog {
  info(object: object, message: string): void;
}

/** nodemailer is loaded with the first email: it holds several MB that a server sending none never needs. */
function lazyTransport(options: string | undefined | { jsonTransport: true }): () => Promise<Transporter> {
  let transport: Promise<Transporter> | undefined;
  return () => {
    transport ??= import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport(options) as Transporter);
    transport.catch(() => (transport = undefined));
    return transport;
  };
}

export function createMailer(settings: MailSettings, log: MailLog): SendMail {
  if (settings.transport === 'smtp') {
    const transport = lazyTransport(settings.smtpUrl);
    return async (message) => {
      await (await transport()).sendMail({ from: settings.from, ...message });
    };
  }
  const transport = lazyTransport({ jsonTransport: true });
  return async (message) => {
    const composed = await (await transport()).sendMail({ from: settings.from, ...message });
    const { from, to, subject, text } = JSON.parse(String(composed.message)) as Record<string, unknown>;
    log.info({ email: { from, to, subject, text } }, 'email not sent (FIELDKEEP_MAIL_TRANSPORT=log): its text follows');
  };
}
