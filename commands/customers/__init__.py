"""/customer (客户) and /followup (跟进): the team's shared customer database (SPEC "/customer")."""
