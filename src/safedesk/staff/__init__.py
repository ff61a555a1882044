"""The staff app: accounts and sign-in, the inbox, review sampling, the owners' dashboard and tools.

`safedesk.staff.routes.staff_router` (prefix /staff) is the web app; `safedesk.staff.cli_users.users_app`
is `safedesk users ...`. The library modules (accounts, inbox, review, dashboard, knowledge) import
no web framework except where they render.
"""
