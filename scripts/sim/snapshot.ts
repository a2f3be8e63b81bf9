// The JPEG served at /snapshot/<ch>: a 640x360 test card made once per process with ffmpeg,
// or a tiny built-in JPEG when ffmpeg is not available.
import { execFile } from 'node:child_process';

/** 32x18 test card (ffmpeg testsrc), used when ffmpeg is missing or fails. */
const BUILTIN_JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgQEBMQExYWFhYWFhoYGhsbGxoaGhobGxsdHR0iIiIdHR0bGx0dICAiIiUmJSMjIiMmJigoKDAwLi44ODpFRVP/xACWAAACAwEBAAAAAAAAAAAAAAAHBgUAAQQCAQAABwEBAAAAAAAAAAAAAAAABQYHBAgDAgEQAAEDAgQDBgcBAQAAAAAAAAERAgMABUOCEsEhUUETkQQGMjEiobIzgVJzYmERAAIABAMDCAkFAQEAAAAAAAECAAQDERIFITFRQkHCgUODIsETkbFh0xQyUjMGs3E1dKEVcv/AABEIABIAIAMBEgACEgADEgD/2gAMAwEAAhEDEQA/AB5YYB4iZ7XekBrndFAXh3kfinDy9bZoXSSudGQ5gAQuX3X9RXAoivVRTsAZj7QLaen/ACCb/q0Jardlqnule6F5SN7DdEipmT5XITNWn912o0qZsGCswqEsQSNiq1toxWuCIwzjLa3wjUcVPF51Ope7WsiVVPDe93FtN8K1y49nm2pk8Xap5i0NdGNKqpd1Tk08qsHKKFBVQAAFAAFgAL2AG6ENI/kMpVJASvrbaqe8hT52qossqgKqhwABYADBYADQAQjc3z2VrmmFSsMGK91Tlw7LOd0FS44ebalu6XSFjmNLZFCj2b1T/X/KrPK8XR4w5Up+LTpDHzJbW3FU91Cez3qO05kZTLjNvK8nu4cV/M0+bD9OLdE/5d8Q6eOZryrmaOPMHUi8zwNKNluEVvExla93aaE0AH06lVXN50c0q7VkAbUpy7wdl/boYnNl9WSDGoyG9vlJOz91EOJPZVSy6aepQASnMAHANiuhbFhFrKhDKQLmxuBYWhcTtBsxFI0iFw4r47jbh+kNugPW0kGQgoRoII6e9ebdiZd6JJkkFCNCL6+iPJrh6fCC/JUWosyrKGVgisrAEMDjBBB0II2iNMi6/s+fE7ccPNtVuOHm2p/5Xi6PGBK8XR4wVZ71HacyBnvUdpzIPNxw821W44ebaqVyvF0eMCV4ujxhqc96jtOZAz3qO05kd9kAEAQJ8ER7wSfnW2X7A/nF9Jp8yAKNC2nc9YEdN9mh/wCB6hE+m7PmWaFmLH4hluSSbK9RVGvIAAAOQC0Z0P5HNf7T/q1Y/9k=',
  'base64',
);

let cached: Promise<Buffer> | undefined;

function renderWithFfmpeg(): Promise<Buffer> {
  const args = ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=640x360', '-frames:v', '1', '-q:v', '5', '-f', 'image2', '-c:v', 'mjpeg', 'pipe:1'];
  return new Promise((resolve) => {
    execFile(process.env.FFMPEG_BIN ?? 'ffmpeg', args, { encoding: 'buffer', timeout: 5000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout) => {
      const looksLikeJpeg = stdout !== undefined && stdout.length > 2 && stdout[0] === 0xff && stdout[1] === 0xd8;
      resolve(!err && looksLikeJpeg ? stdout : BUILTIN_JPEG);
    });
  });
}

/** Shared by every simulator in the process: rendered at most once. */
export function snapshotJpeg(): Promise<Buffer> {
  cached ??= renderWithFfmpeg();
  return cached;
}

export { BUILTIN_JPEG };
