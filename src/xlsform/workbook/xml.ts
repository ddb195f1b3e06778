/*
 * Streaming XML for workbook parts: saxes with a DOCTYPE refused outright (no entity
 * tricks can follow), nesting depth capped, and element names reduced to their local part
 * so prefixed spreadsheets (`<x:row>`) read like plain ones. Attribute names are passed as
 * written: SpreadsheetML attributes are unprefixed, except relationship ids (`r:id`).
 */
import { SaxesParser } from 'saxes';
import { WorkbookError } from './errors.js';
import { maxXmlDepth } from './limits.js';

export interface XmlHandler {
  open?(name: string, attrs: Record<string, string>): void;
  close?(name: string): void;
  text?(text: string): void;
}

const localName = (name: string): string => {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
};

export class XmlStream {
  private readonly parser = new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true });
  private decoder: TextDecoder | undefined;
  private depth = 0;

  constructor(
    private readonly part: string,
    handler: XmlHandler,
  ) {
    const parser = this.parser;
    parser.on('doctype', () => {
      throw new WorkbookError(
        'xml.doctype_forbidden',
        `The workbook part ${part} contains a DOCTYPE declaration, which spreadsheet files never need and which is refused for safety. Re-save the file from Excel or LibreOffice.`,
      );
    });
    parser.on('error', (err) => {
      throw this.malformed(err.message);
    });
    parser.on('opentag', (tag) => {
      if (++this.depth > maxXmlDepth) throw this.malformed(`elements nest deeper than ${maxXmlDepth} levels`);
      handler.open?.(localName(tag.name), tag.attributes);
    });
    parser.on('closetag', (tag) => {
      this.depth--;
      handler.close?.(localName(tag.name));
    });
    if (handler.text) {
      parser.on('text', handler.text);
      parser.on('cdata', handler.text);
    }
  }

  write(chunk: Uint8Array): void {
    this.decoder ??= new TextDecoder(chunk[0] === 0xff && chunk[1] === 0xfe ? 'utf-16le' : 'utf-8');
    this.parser.write(this.decoder.decode(chunk, { stream: true }));
  }

  end(): void {
    if (this.decoder) this.parser.write(this.decoder.decode());
    this.parser.close();
  }

  private malformed(detail: string): WorkbookError {
    return new WorkbookError(
      'xlsform.malformed_workbook',
      `The workbook part ${this.part} is not well-formed XML (${detail}). The file is damaged or was not written by a spreadsheet program; re-save it from Excel or LibreOffice.`,
    );
  }
}
