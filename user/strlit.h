/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A limit's macro spelled into a message, so the message and the limit
 * never disagree: "over " STR_OF(SMTP_AUTH_LINE_MAX) " bytes". */
#ifndef RG_STRLIT_H
#define RG_STRLIT_H

#define STR_OF_(x) #x
#define STR_OF(x)  STR_OF_(x)

#endif
