/**
 * Outgoing email (password resets). With the default `log` transport the composed message is
 * written to the server log instead of being sent, so a single machine without a mail server still
 * works: the operator reads the reset link there. That is the one place a secret (the reset link)
 * is logged on purpose; production installs should use `smtp`.
 */
import nodemailer from 'nodemailer';
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

export function createMailer(settings: MailSettings, log: MailLog): SendMail {
  if (settings.transport === 'smtp') {
    const transport = nodemailer.createTransport(settings.smtpUrl);
    return async (message) => {
      await transport.sendMail({ from: settings.from, ...message });
    };
  }
  const transport = nodemailer.createTransport({ jsonTransport: true });
  return async (message) => {
    const composed = await transport.sendMail({ from: settings.from, ...message });
    const { from, to, subject, text } = JSON.parse(String(composed.message)) as Record<string, unknown>;
    log.info({ email: { from, to, subject, text } }, 'email not sent (FIELDKEEP_MAIL_TRANSPORT=log): its text follows');
  };
}
