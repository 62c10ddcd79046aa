-- message_history partitioned by month from the first day (MariaDB 10.11 and MySQL 8).
--
-- On a new installation the table is still empty here, so partitioning it is instant: everything
-- up to the end of the current month (UTC) goes to pYYYYMM, later ids to the empty catch-all
-- p_future, and worker-cleaner keeps three months ready ahead (docs/operations.md), exactly as
-- `im-message partitions enable` leaves it. An installation whose table already holds rows keeps
-- it as it is: converting a big table is a full copy, so that stays an operator's decision
-- (`im-message partitions enable`, or an online schema-change tool).
--
-- Partition bounds are message ids: (milliseconds since 2020-01-01 UTC) << 22, the first id of a
-- month (packages/redis/src/message-ids.ts, firstIdAt). Computed with TIMESTAMPDIFF on UTC
-- datetimes, so the session time zone does not matter.

SET @im_month = DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-01');
SET @im_next_month_first_id = TIMESTAMPDIFF(SECOND, '2020-01-01 00:00:00', DATE_ADD(@im_month, INTERVAL 1 MONTH)) * 1000 << 22;

SET @im_partitioned = (SELECT COUNT(*) FROM information_schema.PARTITIONS
                        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'message_history' AND PARTITION_NAME IS NOT NULL);
SET @im_empty = NOT EXISTS (SELECT 1 FROM message_history);

SET @im_sql = IF(@im_partitioned = 0 AND @im_empty,
  CONCAT('ALTER TABLE message_history PARTITION BY RANGE (message_id) (',
         'PARTITION p', DATE_FORMAT(@im_month, '%Y%m'), ' VALUES LESS THAN (', @im_next_month_first_id, '), ',
         'PARTITION p_future VALUES LESS THAN MAXVALUE)'),
  'DO 0');
PREPARE im_partition_history FROM @im_sql;
EXECUTE im_partition_history;
DEALLOCATE PREPARE im_partition_history;
