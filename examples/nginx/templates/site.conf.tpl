# ${host.hostname}: written by trail; edits are reported as drift.
server {
    listen ${port};
    listen [::]:${port};
    server_name _;

    root ${root};
    index index.html;

    add_header X-Release "${release}" always;

    location / {
        try_files $uri $uri/ =404;
    }
}
