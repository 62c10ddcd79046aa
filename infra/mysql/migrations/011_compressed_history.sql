-- message_history page compressed from the first day (MariaDB).
--
-- Measured with `npm run bench -- storage` on a mixed corpus (docs/benchmarks/2026-11-30-fleet.md):
-- page compression stores a message in 45 % of the bytes, at the same insert rate, with search
-- unchanged (the pages are plain in the buffer pool, so LIKE over content works as before).
-- InnoDB compresses each page as it writes it to disk and punches the rest of the page out of the
-- file; the table's partitions, and those worker-cleaner adds later, inherit the option.
--
-- A new installation's table is still empty here, so the change is instant. A table that already
-- holds rows keeps its format: compressing it rewrites the whole table, an operator's decision
-- (docs/operations.md, "Storing history compressed"). MySQL has no PAGE_COMPRESSED (its
-- equivalent is COMPRESSION='zlib', described there); on MySQL this migration changes nothing.

SET @im_mariadb = VERSION() LIKE '%MariaDB%';
SET @im_empty = NOT EXISTS (SELECT 1 FROM message_history);
SET @im_sql = IF(@im_mariadb AND @im_empty, 'ALTER TABLE message_history PAGE_COMPRESSED=1', 'DO 0');
PREPARE im_compress_history FROM @im_sql;
EXECUTE im_compress_history;
DEALLOCATE PREPARE im_compress_history;
