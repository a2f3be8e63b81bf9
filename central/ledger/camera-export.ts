// The camera list as a file for the office: every camera of a filter (not one page of it), as CSV
// (UTF-8 with a byte-order mark, so Excel in a Chinese locale does not read it as GBK) or as an
// Excel workbook, streamed page by page so a city's ledger never sits in memory at once. Headings
// are the reports' bilingual form ("站点 site"); states, classes and faults are in words.
import { PassThrough, Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import { stringify } from 'csv-stringify/sync';
import { stream as excelStream } from 'exceljs';
import { escapeCsvCell } from '../../lib/csv-cell';
import { both, causeName, className, localTime } from '../reports/labels';
import type { Bilingual } from '../reports/period';
import type { CentralTables } from '../store/schema';
import { listCameras, type CameraFilter, type CameraView, type Condition } from './queries';
import type { RegionScope } from './scope';

export const CAMERA_EXPORT_FORMATS = ['csv', 'xlsx'] as const;
export type CameraExportFormat = (typeof CAMERA_EXPORT_FORMATS)[number];

/** Rows read from the database at a time. */
export const EXPORT_PAGE = 1000;

const CONDITION_NAMES: Record<Condition, Bilingual> = {
  online: { zh: '在线', en: 'online' },
  fault: { zh: '故障', en: 'fault' },
  offline: { zh: '离线', en: 'offline' },
  unknown: { zh: '未知', en: 'unknown' },
};

type Cell = string | number | null;

interface Column {
  name: Bilingual;
  value(camera: CameraView, zone: string): Cell;
}

const time = (iso: string | null, zone: string): string => (iso === null ? '' : localTime(iso, zone));

export const CAMERA_COLUMNS: readonly Column[] = [
  { name: { zh: '站点', en: 'site' }, value: (c) => c.site },
  { name: { zh: '摄像机编号', en: 'camera' }, value: (c) => c.camera },
  { name: { zh: '名称', en: 'name' }, value: (c) => c.name },
  { name: { zh: '类别', en: 'class' }, value: (c) => className(c.class).zh },
  { name: { zh: '区域', en: 'region' }, value: (c) => c.region },
  { name: { zh: '权属单位', en: 'owner' }, value: (c) => c.owner },
  { name: { zh: '状态', en: 'condition' }, value: (c) => CONDITION_NAMES[c.condition].zh },
  { name: { zh: '画面故障', en: 'faults' }, value: (c) => c.faults.map((f) => causeName(f).zh).join('、') },
  { name: { zh: '原因', en: 'reason' }, value: (c) => c.reason },
  { name: { zh: '状态时间', en: 'status at' }, value: (c, zone) => time(c.statusAt, zone) },
  { name: { zh: '纬度', en: 'latitude' }, value: (c) => c.latitude },
  { name: { zh: '经度', en: 'longitude' }, value: (c) => c.longitude },
  { name: { zh: '厂商', en: 'manufacturer' }, value: (c) => c.manufacturer },
  { name: { zh: '型号', en: 'model' }, value: (c) => c.model },
  { name: { zh: '固件', en: 'firmware' }, value: (c) => c.firmware },
  { name: { zh: '序列号', en: 'serial' }, value: (c) => c.serial },
  { name: { zh: '主码流高度', en: 'main stream height' }, value: (c) => c.mainHeight },
  { name: { zh: '首次接入', en: 'first seen' }, value: (c, zone) => time(c.firstSeen, zone) },
  { name: { zh: '移除时间', en: 'removed at' }, value: (c, zone) => time(c.removedAt, zone) },
];

export const CAMERA_HEADINGS: readonly string[] = CAMERA_COLUMNS.map((c) => both(c.name));

export function cameraCells(camera: CameraView, zone: string): Cell[] {
  return CAMERA_COLUMNS.map((column) => column.value(camera, zone));
}

export interface ExportSource {
  db: Kysely<CentralTables>;
  filter: Omit<CameraFilter, 'limit' | 'offset'>;
  now: number;
  staleAfterMs: number;
  scope: RegionScope;
}

/** Every camera of the filter, a page at a time, in the filter's order. Offset paging: a camera
 * added or removed while the file is written can shift a page by one row, as in any list. */
export async function* cameraPages(source: ExportSource, pageSize = EXPORT_PAGE): AsyncGenerator<CameraView[]> {
  for (let offset = 0; ; offset += pageSize) {
    const page = await listCameras(source.db, { ...source.filter, limit: pageSize, offset }, source.now, source.staleAfterMs, source.scope);
    if (page.items.length > 0) yield page.items;
    if (page.items.length < pageSize) return;
  }
}

export function cameraCsv(pages: AsyncIterable<CameraView[]>, zone: string): Readable {
  const text = (cell: Cell) => (cell === null ? '' : typeof cell === 'number' ? String(cell) : escapeCsvCell(cell));
  async function* lines(): AsyncGenerator<string> {
    yield stringify([[...CAMERA_HEADINGS]], { bom: true, record_delimiter: 'windows' });
    for await (const page of pages)
      yield stringify(
        page.map((c) => cameraCells(c, zone).map(text)),
        { record_delimiter: 'windows' },
      );
  }
  return Readable.from(lines());
}

export function cameraXlsx(pages: AsyncIterable<CameraView[]>, zone: string): Readable {
  const out = new PassThrough();
  const workbook = new excelStream.xlsx.WorkbookWriter({ stream: out, useStyles: true });
  const sheet = workbook.addWorksheet('摄像机 Cameras', { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = CAMERA_HEADINGS.map((heading) => ({ header: heading, width: Math.max(12, heading.length + 4) }));
  sheet.getRow(1).font = { bold: true };
  void (async () => {
    for await (const page of pages) for (const camera of page) sheet.addRow(cameraCells(camera, zone)).commit();
    sheet.commit();
    await workbook.commit();
  })().catch((err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
  return out;
}

/** 摄像机-cameras_2026-12-07.csv (the local day of the export), and its ASCII twin. */
export function cameraExportFileName(format: CameraExportFormat, day: string): { fileName: string; asciiFileName: string } {
  return { fileName: `摄像机-cameras_${day}.${format}`, asciiFileName: `cameras_${day}.${format}` };
}
