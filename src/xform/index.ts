export { XmlError, XFormError } from './errors.js';
export type { XmlErrorCode, XFormErrorCode } from './errors.js';
export {
  DEFAULT_XML_LIMITS,
  XmlStreamParser,
  attributeValue,
  childElements,
  firstChildElement,
  parseXml,
  parseXmlTree,
  textContent,
} from './xml.js';
export type { XmlAttribute, XmlElement, XmlHandlers, XmlLimits, XmlName, XmlNode, XmlStartTag } from './xml.js';
export { DEFAULT_LANGUAGE } from './schema.js';
export type { Choice, FieldBind, FieldType, FormField, FormSchema, LocalizedText } from './schema.js';
export { parseXForm } from './xform.js';
export { parseSubmission, submissionFields, submissionIdentity } from './submission.js';
export type { ParsedSubmission, SubmissionFields, SubmissionIdentity as InstanceIdentity, SubmissionValue } from './submission.js';
