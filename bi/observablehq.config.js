// Observable Framework project settings (https://observablehq.com/framework/config).
export default {
  title: "pg_segments",
  root: "src",
  pages: [
    {name: "Segments", path: "/"},
    {name: "Segment development", path: "/development"},
    {name: "Life cycle × value band", path: "/matrix"},
    {name: "Cohort retention", path: "/cohorts"},
    {name: "New, returning, lapsed", path: "/new-returning-lapsed"},
    {name: "Members", path: "/members"}
  ],
  // No web fonts: the dashboard builds and displays without any network but the database.
  globalStylesheets: [],
  footer: "Data: pg_segments, read as a segments_reader login.",
  search: false,
  // Links end in .html, so any static file server (python3 -m http.server -d bi/dist) serves the site.
  cleanUrls: false
};
