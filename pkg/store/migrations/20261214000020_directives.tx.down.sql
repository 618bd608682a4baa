DROP TABLE directive_targets;
--bun:split
DROP TABLE directives;
