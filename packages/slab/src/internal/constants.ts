/** Bytes per page (`PAGE_SIZE`). @internal */
export const PAGE_SIZE = 4096;
/** `sizeof(void *)`. @internal */
export const WORD = 8;
