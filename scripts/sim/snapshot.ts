// The JPEGs served at /snapshot/<ch>: a 640x360 picture per SimPicture, made once per process
// with ffmpeg, or a tiny built-in JPEG of the same look when ffmpeg is not available.
import { execFile } from 'node:child_process';
import type { SimPicture } from './types';

/** 32x18 fallbacks (ffmpeg smptebars / color=black / color=blue), used when ffmpeg is missing or fails. */
const BUILTIN: Record<Exclude<SimPicture, 'clock'>, Buffer> = {
  moving: Buffer.from(
    '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgKCgsKCw0NDQ0NDRAPEBAQEBAQEBAQEBASEhIVFRUSEhIQEBISFBQVFRcXFxUVFRUXFxkZGR4eHBwjIyQrKzP/xACAAAEBAQEAAAAAAAAAAAAAAAAGCAMFAQEBAQEAAAAAAAAAAAAAAAAEAgUDEAAAAwUFBAsBAAAAAAAAAAAAAQISETEDBAUGMiETgaSxM4Khc3I0QhRRIkHBJBEAAgEDAwMDBQEAAAAAAAAAAQIDAAQRIRIFwYJCkSITQ4ExUcJB/8AAEQgAEgAgAwEiAAIRAAMRAP/aAAwDAQACEQMRAD8AdTcB7OIO1vk6X4Cky+s1STIrM3ovfsQp9DeSp5ti6DMP7qWY0+OFROc7rA3sLmPm7SZlQRrEwL/LEVB2yjGQ5/Y9aDexte2M0EBV5GKYBdUGjq2rOVUaA/kjNH53MPZwA6q8PN7pjSovArVUxStpycrVZfkX0ct8RhPq7KmIYKuxqQgz0J3xSpZEpcM2EmamYqc4hvcKpsLy+kuR8SyTKyE67gryEkbc50I9argVbioL+G7V43uI0ji2q0qsyrIDl4Q6KMsvuYhf9zXNFniMBZ4m78O7pXKy8+3rUQg+USCAHyiQTyX0u7+a3Ljx+/Sv/9k=',
    'base64',
  ),
  frozen: Buffer.from(
    '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgKCgsKCw0NDQ0NDRAPEBAQEBAQEBAQEBASEhIVFRUSEhIQEBISFBQVFRcXFxUVFRUXFxkZGR4eHBwjIyQrKzP/xACAAAEBAQEAAAAAAAAAAAAAAAAGCAMFAQEBAQEAAAAAAAAAAAAAAAAEAgUDEAAAAwUFBAsBAAAAAAAAAAAAAQISETEDBAUGMiETgaSxM4Khc3I0QhRRIkHBJBEAAgEDAwMDBQEAAAAAAAAAAQIDAAQRIRIFwYJCkSITQ4ExUcJB/8AAEQgAEgAgAwEiAAIRAAMRAP/aAAwDAQACEQMRAD8AdTcB7OIO1vk6X4Cky+s1STIrM3ovfsQp9DeSp5ti6DMP7qWY0+OFROc7rA3sLmPm7SZlQRrEwL/LEVB2yjGQ5/Y9aDexte2M0EBV5GKYBdUGjq2rOVUaA/kjNH53MPZwA6q8PN7pjSovArVUxStpycrVZfkX0ct8RhPq7KmIYKuxqQgz0J3xSpZEpcM2EmamYqc4hvcKpsLy+kuR8SyTKyE67gryEkbc50I9argVbioL+G7V43uI0ji2q0qsyrIDl4Q6KMsvuYhf9zXNFniMBZ4m78O7pXKy8+3rUQg+USCAHyiQTyX0u7+a3Ljx+/Sv/9k=',
    'base64',
  ),
  black: Buffer.from(
    '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgKCgsKCw0NDQ0NDRAPEBAQEBAQEBAQEBASEhIVFRUSEhIQEBISFBQVFRcXFxUVFRUXFxkZGR4eHBwjIyQrKzP/xABLAAEBAAAAAAAAAAAAAAAAAAAACAEBAAAAAAAAAAAAAAAAAAAAABABAAAAAAAAAAAAAAAAAAAAABEBAAAAAAAAAAAAAAAAAAAAAP/AABEIABIAIAMBIgACEQADEQD/2gAMAwEAAhEDEQA/AJ/AAAAAAAB//9k=',
    'base64',
  ),
  blue: Buffer.from(
    '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgKCgsKCw0NDQ0NDRAPEBAQEBAQEBAQEBASEhIVFRUSEhIQEBISFBQVFRcXFxUVFRUXFxkZGR4eHBwjIyQrKzP/xABNAAEBAAAAAAAAAAAAAAAAAAAABwEBAQEAAAAAAAAAAAAAAAAAAAUHEAEAAAAAAAAAAAAAAAAAAAAAEQEAAAAAAAAAAAAAAAAAAAAA/8AAEQgAEgAgAwEiAAIRAAMRAP/aAAwDAQACEQMRAD8AjgDf0sAAAAAB/9k=',
    'base64',
  ),
};

/** The ffmpeg source per picture: what the RTSP stream of that picture shows (see rtsp_server.py). */
const SOURCES: Record<Exclude<SimPicture, 'clock'>, string> = {
  moving: 'smptebars=size=640x360',
  frozen: 'smptebars=size=640x360',
  black: 'color=c=black:size=640x360',
  blue: 'color=c=blue:size=640x360',
};

const cached = new Map<SimPicture, Promise<Buffer>>();

/** Snapshots of the clock picture show its bars without the clock (a snapshot is not timed). */
const still = (picture: SimPicture): Exclude<SimPicture, 'clock'> => (picture === 'clock' ? 'moving' : picture);

function renderWithFfmpeg(picture: SimPicture): Promise<Buffer> {
  const args = ['-v', 'error', '-f', 'lavfi', '-i', SOURCES[still(picture)], '-frames:v', '1', '-q:v', '5', '-f', 'image2', '-c:v', 'mjpeg', 'pipe:1'];
  return new Promise((resolve) => {
    execFile(process.env.FFMPEG_BIN ?? 'ffmpeg', args, { encoding: 'buffer', timeout: 5000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout) => {
      const looksLikeJpeg = stdout !== undefined && stdout.length > 2 && stdout[0] === 0xff && stdout[1] === 0xd8;
      resolve(!err && looksLikeJpeg ? stdout : BUILTIN[still(picture)]);
    });
  });
}

/** Shared by every simulator in the process: each picture is rendered at most once. */
export function snapshotJpeg(picture: SimPicture = 'moving'): Promise<Buffer> {
  let p = cached.get(picture);
  if (!p) {
    p = renderWithFfmpeg(picture);
    cached.set(picture, p);
  }
  return p;
}

/** The built-in fallback for a picture (served until the rendered one is ready). */
export function builtinJpeg(picture: SimPicture = 'moving'): Buffer {
  return BUILTIN[still(picture)];
}
