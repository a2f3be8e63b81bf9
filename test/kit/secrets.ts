/** A password that must never show up anywhere but where it belongs (logs, replies, pages, files). */
export const PLANTED = 'Pl4nted-S3cret-9f27c';
