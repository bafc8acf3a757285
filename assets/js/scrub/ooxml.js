// Liêm Chính scrubber: office documents (DOCX, XLSX, PPTX). Removed: the
// document properties (docProps/core.xml: author, last modified by, title,
// dates; app.xml: company, manager, template, total editing time; custom.xml:
// any property), reduced to their empty root element, and the names of the
// people who commented or tracked changes (comments, people, comment authors,
// w:author on insertions and deletions), emptied.

import { ZipError, entryBytes, readZip, replaced, writeZip } from "./zip.js";

const PROPS = /^docProps\/(core|app|custom)\.xml$/;
const PEOPLE = /^(word|xl|ppt)\/(.*comments?[^/]*\.xml|people\.xml|commentAuthors\.xml|authors\.xml|persons\/[^/]+\.xml|document\.xml)$/i;
const PERSON_ATTR = /(\s(?:[A-Za-z0-9]+:)?(?:author|initials|userId|providerId|displayName)=")([^"]*)(")/g;
const CM_AUTHOR_NAME = /(<p:cmAuthor\b[^>]*?\sname=")([^"]*)(")/g;
const AUTHOR_ELEMENT = /(<author>)([^<]*)(<\/author>)/g;

const CORE_KEYS = {
  "dc:creator": "author",
  "cp:lastModifiedBy": "author",
  "dc:title": "title",
  "dc:subject": "title",
  "cp:keywords": "text",
  "dc:description": "comment",
  "dcterms:created": "date",
  "dcterms:modified": "date",
  "cp:lastPrinted": "date",
  Company: "company",
  Manager: "author",
  Application: "software",
  Template: "other", // the template's file name ("Normal.dotm"), not a program
  TotalTime: "history",
};

export function isOfficeZip(entries) {
  return entries.some((e) => e.name === "[Content_Types].xml");
}

const utf8 = new TextDecoder();
const encode = (s) => new TextEncoder().encode(s);
const unescape = (s) =>
  s.replace(/&(lt|gt|quot|apos|amp);/g, (_m, e) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[e]);

/** Keep the XML declaration and the root element (with its namespaces), empty. */
export function emptyRoot(xml) {
  const decl = /^\s*(<\?xml[^>]*\?>)?\s*/.exec(xml);
  const start = /<([A-Za-z_][\w.:-]*)\b[^>]*?(\/?)>/.exec(xml.slice(decl[0].length));
  if (!start) return "";
  const root = start[2] ? start[0] : `${start[0]}</${start[1]}>`;
  return `${decl[1] || ""}${root}`;
}

function propertyFindings(xml) {
  const out = [];
  for (const m of xml.matchAll(/<([\w:]+)\b[^>]*>([^<]+)<\/\1>/g)) {
    const key = CORE_KEYS[m[1]];
    const value = unescape(m[2]).trim();
    if (!value || (m[1] === "TotalTime" && value === "0")) continue;
    if (key) out.push({ key, value: m[1] === "TotalTime" ? `${value} min` : value });
  }
  for (const m of xml.matchAll(/<property\b[^>]*\sname="([^"]*)"/g)) out.push({ key: "other", value: unescape(m[1]) });
  return out;
}

function peopleIn(xml) {
  const names = new Set();
  for (const re of [PERSON_ATTR, CM_AUTHOR_NAME, AUTHOR_ELEMENT]) {
    for (const m of xml.matchAll(re)) {
      const v = unescape(m[2]).trim();
      if (v && !/initials|userId|providerId/i.test(m[1])) names.add(v);
    }
  }
  return names;
}

export function cleanPeople(xml) {
  return xml.replace(PERSON_ATTR, "$1$3").replace(CM_AUTHOR_NAME, "$1$3").replace(AUTHOR_ELEMENT, "$1$3");
}

export async function inspectOffice(bytes) {
  const entries = readZip(bytes);
  if (!isOfficeZip(entries)) throw new ZipError("not an office document");
  const findings = [];
  const people = new Set();
  for (const e of entries) {
    if (PROPS.test(e.name)) findings.push(...propertyFindings(utf8.decode(await entryBytes(e))));
    else if (PEOPLE.test(e.name)) for (const n of peopleIn(utf8.decode(await entryBytes(e)))) people.add(n);
  }
  if (people.size) findings.push({ key: "comment_authors", value: [...people].join(", ") });
  return findings;
}

export async function cleanOffice(bytes) {
  const entries = readZip(bytes);
  if (!isOfficeZip(entries)) throw new ZipError("not an office document");
  const out = [];
  for (const e of entries) {
    if (PROPS.test(e.name)) {
      out.push(await replaced(e, encode(emptyRoot(utf8.decode(await entryBytes(e))))));
    } else if (PEOPLE.test(e.name)) {
      const xml = utf8.decode(await entryBytes(e));
      const cleaned = cleanPeople(xml);
      out.push(cleaned === xml ? e : await replaced(e, encode(cleaned)));
    } else {
      out.push(e);
    }
  }
  return writeZip(out);
}
