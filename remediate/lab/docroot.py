"""The pristine filesystem of a lab host, generated deterministically so tests can compare bytes.

A lab host serves a small WordPress-like site whose ``wp-settings.php`` carries the outage typo
(``class-wp-locale.phpp``): ``php -l`` accepts the file, but every request dies on the failed
``require`` and the PHP server answers 500. Fixing the one line makes ``GET /`` answer 200 with
:data:`GREETING` and the host name. Next to the docroot each host gets a minimal Debian-style
``/etc/apache2`` and empty ``/var/backups``, ``/tmp``, ``/run/lock`` and ``/run/remediate`` (the lock
folder of a root run: each host has its own, as a real host would).

A lab with Apache (:class:`ApacheBuild`) gets instead a complete, working Debian Apache 2.4 config,
modelled on the files of Debian's apache2 and libapache2-mod-php packages but with only the modules the
site needs (prefork, mod_php, authz_core, dir, mime, headers), and a static :data:`HEALTH_FILE` in the
docroot that answers 200 whatever PHP does. Three of its files differ per host
(:func:`apache_host_files`): ``ports.conf`` listens on the host's own address only, ``envvars`` names
the host, and ``conf-available/servername.conf`` sets its ServerName. ``envvars`` keeps Apache's run
directory, pid file, lock directory and logs in the host's own ``/run/lock`` and ``/tmp``: ``/run`` and
``/var/log`` are shared by every lab host, so ``apache2ctl`` run on a host must not look there.

Everything here is pure: :func:`pristine_tree` returns values; ``lab.fleet`` writes them.
"""

from __future__ import annotations

import grp
import pwd
import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

# The folders a lab host sees from its own backing directory (bind mounts in its namespace).
BOUND_DIRS = ("/var/www", "/etc/apache2", "/var/backups", "/tmp", "/run/lock", "/run/remediate")

DOCROOT = "/var/www/html"
WP_SETTINGS = f"{DOCROOT}/wp-settings.php"
BROKEN_LINE = "require ABSPATH . WPINC . '/class-wp-locale.phpp';"
FIXED_LINE = "require ABSPATH . WPINC . '/class-wp-locale.php';"
GREETING = "Hello from WORDPRESS-LIKE lab"
HEALTH_FILE = f"{DOCROOT}/health.txt"  # only in labs with Apache
HEALTH_TEXT = "ok\n"

# Where a lab host's Apache keeps its state (see _ENVVARS_APACHE); Debian's own places are shared.
APACHE_RUN_DIR = "/run/lock/apache2-run"
APACHE_PID_FILE = f"{APACHE_RUN_DIR}/apache2.pid"
APACHE_LOCK_DIR = "/run/lock/apache2"
APACHE_LOG_DIR = "/tmp/apache2-log"

EntryKind = Literal["dir", "file", "symlink"]


@dataclass(frozen=True)
class TreeEntry:
    """One file, directory or symlink of a lab host, by its path as the host sees it."""

    path: str
    kind: EntryKind
    mode: int
    uid: int = 0
    gid: int = 0
    data: bytes = b""  # file content, or the target of a symlink


def _www_data_ids() -> tuple[int, int]:
    try:
        return pwd.getpwnam("www-data").pw_uid, grp.getgrnam("www-data").gr_gid
    except KeyError:  # not Debian: keep the tree valid, owned by root
        return 0, 0


# --- wp-settings.php -----------------------------------------------------------------------------

# (comment, files) in load order, modelled on WordPress 6.x. The typo goes into class-wp-locale.php.
_EARLY = (
    "version.php",
    "compat.php",
    "load.php",
    "class-wp-paused-extensions-storage.php",
    "class-wp-exception.php",
    "class-wp-fatal-error-handler.php",
    "class-wp-recovery-mode-cookie-service.php",
    "class-wp-recovery-mode-key-service.php",
    "class-wp-recovery-mode-link-service.php",
    "class-wp-recovery-mode-email-service.php",
    "class-wp-recovery-mode.php",
    "error-protection.php",
    "default-constants.php",
)
_BEFORE_L10N = (
    "class-wp-list-util.php",
    "class-wp-token-map.php",
    "formatting.php",
    "meta.php",
    "functions.php",
    "class-wp-meta-query.php",
    "class-wp-matchesmapregex.php",
    "class-wp.php",
    "class-wp-error.php",
    "pomo/mo.php",
    "l10n/class-wp-translation-controller.php",
    "l10n/class-wp-translations.php",
    "l10n/class-wp-translation-file.php",
    "l10n/class-wp-translation-file-mo.php",
    "l10n/class-wp-translation-file-php.php",
)
_CACHE = ("class-wpdb.php", "cache-compat.php", "cache.php", "default-filters.php")
_L10N = ("l10n.php", "class-wp-textdomain-registry.php", "class-wp-locale.php", "class-wp-locale-switcher.php")
_REST_CONTROLLERS = (
    "posts",
    "attachments",
    "global-styles",
    "post-types",
    "post-statuses",
    "revisions",
    "global-styles-revisions",
    "template-revisions",
    "autosaves",
    "template-autosaves",
    "taxonomies",
    "terms",
    "menu-items",
    "menus",
    "menu-locations",
    "users",
    "comments",
    "search",
    "blocks",
    "block-types",
    "block-renderer",
    "settings",
    "themes",
    "plugins",
    "block-directory",
    "edit-site-export",
    "pattern-directory",
    "block-patterns",
    "block-pattern-categories",
    "application-passwords",
    "site-health",
    "sidebars",
    "widget-types",
    "widgets",
    "templates",
    "url-details",
    "navigation-fallback",
    "font-families",
    "font-faces",
    "font-collections",
)
_CORE_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Users, roles and capabilities.",
        (
            "class-wp-walker.php",
            "class-wp-ajax-response.php",
            "capabilities.php",
            "class-wp-roles.php",
            "class-wp-role.php",
            "class-wp-user.php",
            "class-wp-query.php",
            "query.php",
            "class-wp-date-query.php",
        ),
    ),
    (
        "Themes, theme.json and block templates.",
        (
            "theme.php",
            "class-wp-theme.php",
            "class-wp-theme-json-schema.php",
            "class-wp-theme-json-data.php",
            "class-wp-theme-json.php",
            "class-wp-theme-json-resolver.php",
            "class-wp-duotone.php",
            "global-styles-and-settings.php",
            "class-wp-block-template.php",
            "class-wp-block-templates-registry.php",
            "block-template-utils.php",
            "block-template.php",
            "theme-templates.php",
            "theme-previews.php",
            "template.php",
            "https-detection.php",
            "https-migration.php",
        ),
    ),
    (
        "User queries and sessions.",
        (
            "class-wp-user-request.php",
            "user.php",
            "class-wp-user-query.php",
            "class-wp-session-tokens.php",
            "class-wp-user-meta-session-tokens.php",
        ),
    ),
    (
        "Template tags.",
        (
            "general-template.php",
            "link-template.php",
            "author-template.php",
            "robots-template.php",
        ),
    ),
    (
        "Posts, pages and revisions.",
        (
            "post.php",
            "class-walker-page.php",
            "class-walker-page-dropdown.php",
            "class-wp-post-type.php",
            "class-wp-post.php",
            "post-template.php",
            "revision.php",
            "post-formats.php",
            "post-thumbnail-template.php",
        ),
    ),
    (
        "Categories and comments.",
        (
            "category.php",
            "class-walker-category.php",
            "class-walker-category-dropdown.php",
            "category-template.php",
            "comment.php",
            "class-wp-comment.php",
            "class-wp-comment-query.php",
            "class-walker-comment.php",
            "comment-template.php",
        ),
    ),
    (
        "Rewrite rules, feeds, links, kses and cron.",
        (
            "rewrite.php",
            "class-wp-rewrite.php",
            "feed.php",
            "bookmark.php",
            "bookmark-template.php",
            "kses.php",
            "cron.php",
            "deprecated.php",
            "script-loader.php",
        ),
    ),
    (
        "Taxonomies.",
        (
            "taxonomy.php",
            "class-wp-taxonomy.php",
            "class-wp-term.php",
            "class-wp-term-query.php",
            "class-wp-tax-query.php",
            "update.php",
            "canonical.php",
            "shortcodes.php",
        ),
    ),
    (
        "Embeds and media.",
        (
            "embed.php",
            "class-wp-embed.php",
            "class-wp-oembed.php",
            "class-wp-oembed-controller.php",
            "media.php",
            "http.php",
        ),
    ),
    (
        "The HTML API.",
        (
            "html-api/html5-named-character-references.php",
            "html-api/class-wp-html-attribute-token.php",
            "html-api/class-wp-html-span.php",
            "html-api/class-wp-html-text-replacement.php",
            "html-api/class-wp-html-decoder.php",
            "html-api/class-wp-html-tag-processor.php",
            "html-api/class-wp-html-unsupported-exception.php",
            "html-api/class-wp-html-active-formatting-elements.php",
            "html-api/class-wp-html-open-elements.php",
            "html-api/class-wp-html-token.php",
            "html-api/class-wp-html-stack-event.php",
            "html-api/class-wp-html-processor-state.php",
            "html-api/class-wp-html-processor.php",
        ),
    ),
    (
        "The HTTP API.",
        (
            "class-wp-http.php",
            "class-wp-http-streams.php",
            "class-wp-http-curl.php",
            "class-wp-http-proxy.php",
            "class-wp-http-cookie.php",
            "class-wp-http-encoding.php",
            "class-wp-http-response.php",
            "class-wp-http-requests-response.php",
            "class-wp-http-requests-hooks.php",
        ),
    ),
    (
        "Widgets, menus and the admin bar.",
        (
            "widgets.php",
            "class-wp-widget.php",
            "class-wp-widget-factory.php",
            "nav-menu-template.php",
            "nav-menu.php",
            "admin-bar.php",
            "class-wp-application-passwords.php",
        ),
    ),
    (
        "The REST API.",
        (
            "rest-api.php",
            "rest-api/class-wp-rest-server.php",
            "rest-api/class-wp-rest-response.php",
            "rest-api/class-wp-rest-request.php",
        ),
    ),
    (
        "REST API endpoints.",
        (
            "rest-api/endpoints/class-wp-rest-controller.php",
            *(f"rest-api/endpoints/class-wp-rest-{name}-controller.php" for name in _REST_CONTROLLERS),
        ),
    ),
    (
        "REST API fields and search handlers.",
        (
            "rest-api/fields/class-wp-rest-meta-fields.php",
            "rest-api/fields/class-wp-rest-comment-meta-fields.php",
            "rest-api/fields/class-wp-rest-post-meta-fields.php",
            "rest-api/fields/class-wp-rest-term-meta-fields.php",
            "rest-api/fields/class-wp-rest-user-meta-fields.php",
            "rest-api/search/class-wp-rest-search-handler.php",
            "rest-api/search/class-wp-rest-post-search-handler.php",
            "rest-api/search/class-wp-rest-term-search-handler.php",
            "rest-api/search/class-wp-rest-post-format-search-handler.php",
        ),
    ),
    (
        "Sitemaps.",
        (
            "sitemaps.php",
            "sitemaps/class-wp-sitemaps.php",
            "sitemaps/class-wp-sitemaps-index.php",
            "sitemaps/class-wp-sitemaps-provider.php",
            "sitemaps/class-wp-sitemaps-registry.php",
            "sitemaps/class-wp-sitemaps-renderer.php",
            "sitemaps/class-wp-sitemaps-stylesheet.php",
            "sitemaps/providers/class-wp-sitemaps-posts.php",
            "sitemaps/providers/class-wp-sitemaps-taxonomies.php",
            "sitemaps/providers/class-wp-sitemaps-users.php",
        ),
    ),
    (
        "Blocks: bindings, types, patterns and the parser.",
        (
            "class-wp-block-bindings-source.php",
            "class-wp-block-bindings-registry.php",
            "class-wp-block-editor-context.php",
            "class-wp-block-type.php",
            "class-wp-block-pattern-categories-registry.php",
            "class-wp-block-patterns-registry.php",
            "class-wp-block-styles-registry.php",
            "class-wp-block-type-registry.php",
            "class-wp-block.php",
            "class-wp-block-list.php",
            "class-wp-block-metadata-registry.php",
            "class-wp-block-parser-block.php",
            "class-wp-block-parser-frame.php",
            "class-wp-block-parser.php",
            "class-wp-classic-to-block-menu-converter.php",
            "class-wp-navigation-fallback.php",
            "block-bindings.php",
            "block-bindings/pattern-overrides.php",
            "block-bindings/post-meta.php",
            "blocks.php",
            "blocks/index.php",
            "block-editor.php",
            "block-patterns.php",
        ),
    ),
    (
        "Block supports.",
        (
            "class-wp-block-supports.php",
            *(
                f"block-supports/{name}.php"
                for name in (
                    "utils",
                    "align",
                    "custom-classname",
                    "generated-classname",
                    "settings",
                    "elements",
                    "colors",
                    "typography",
                    "border",
                    "layout",
                    "position",
                    "spacing",
                    "dimensions",
                    "duotone",
                    "shadow",
                    "background",
                    "block-style-variations",
                )
            ),
        ),
    ),
    (
        "The style engine.",
        (
            "style-engine.php",
            "style-engine/class-wp-style-engine.php",
            "style-engine/class-wp-style-engine-css-declarations.php",
            "style-engine/class-wp-style-engine-css-rule.php",
            "style-engine/class-wp-style-engine-css-rules-store.php",
            "style-engine/class-wp-style-engine-processor.php",
        ),
    ),
    (
        "Fonts.",
        (
            "fonts/class-wp-font-face-resolver.php",
            "fonts/class-wp-font-collection.php",
            "fonts/class-wp-font-face.php",
            "fonts/class-wp-font-library.php",
            "fonts/class-wp-font-utils.php",
            "fonts.php",
        ),
    ),
    (
        "Script modules and the Interactivity API.",
        (
            "class-wp-script-modules.php",
            "script-modules.php",
            "interactivity-api/class-wp-interactivity-api.php",
            "interactivity-api/class-wp-interactivity-api-directives-processor.php",
            "interactivity-api/interactivity-api.php",
            "class-wp-plugin-dependencies.php",
            "class-wp-url-pattern-prefixer.php",
            "class-wp-speculation-rules.php",
            "speculative-loading.php",
        ),
    ),
)
_LATE = ("vars.php", "pluggable.php", "pluggable-deprecated.php", "locale.php")


def _require(relative: str) -> str:
    line = f"require ABSPATH . WPINC . '/{relative}';"
    return BROKEN_LINE if line == FIXED_LINE else line


def _requires(files: tuple[str, ...]) -> list[str]:
    return [_require(name) for name in files]


def _docblock(summary: str, since: str, *details: str) -> list[str]:
    body = [f" * {line}" if line else " *" for line in details]
    return ["", "/**", f" * {summary}", *([" *", *body] if body else []), " *", f" * @since {since}", " */"]


def include_files() -> tuple[str, ...]:
    """Every wp-includes file (relative path) that wp-settings.php requires, under its correct name."""
    files = [*_EARLY, "plugin.php", *_BEFORE_L10N, *_CACHE, *_L10N]
    for _, section in _CORE_SECTIONS:
        files.extend(section)
    files.extend(_LATE)
    return tuple(files)


@cache
def wp_settings_php() -> bytes:
    """The broken wp-settings.php: ~700 lines, one of them :data:`BROKEN_LINE`."""
    lines = [
        "<?php",
        "/**",
        " * Used to set up and fix common variables and include",
        " * the WordPress procedural and class library.",
        " *",
        " * Allows for some configuration in wp-config.php (see default-constants.php)",
        " *",
        " * @package WordPress",
        " */",
        *_docblock(
            "Stores the location of the WordPress directory of functions, classes, and core content.",
            "1.0.0",
        ),
        "define( 'WPINC', 'wp-includes' );",
        *_docblock(
            "Version information for the current WordPress release.",
            "1.2.0",
            "These can't be directly globalized in version.php. When updating,",
            "include version.php from another installation and don't override these values if already set.",
            "",
            "@global string   $wp_version             The WordPress version string.",
            "@global int      $wp_db_version          WordPress database version.",
            "@global string   $tinymce_version        TinyMCE version.",
            "@global string   $required_php_version   The required PHP version string.",
            "@global string[] $required_php_extensions The names of required PHP extensions.",
            "@global string   $required_mysql_version The required MySQL version string.",
            "@global string   $wp_local_package       Locale code of the package.",
        ),
        "global $wp_version, $wp_db_version, $tinymce_version, $required_php_version,"
        " $required_mysql_version, $wp_local_package;",
        "$GLOBALS['wp_lab_loaded'] = array();",
        "$GLOBALS['wp_lab_actions'] = array();",
        "",
        *_requires(_EARLY[:3]),
        "",
        "// Check for the required PHP version and for the MySQL extension or a database drop-in.",
        "wp_check_php_mysql_versions();",
        "",
        "// Include files required for initialization.",
        *_requires(_EARLY[3:]),
        "require_once ABSPATH . WPINC . '/plugin.php';",
        *_docblock(
            "If not already configured, `$blog_id` will default to 1 in a single site",
            "2.0.0",
            "configuration. In multisite, it will be overridden by default in ms-settings.php.",
            "",
            "@global int $blog_id",
        ),
        "global $blog_id;",
        "",
        "// Set initial default constants including WP_MEMORY_LIMIT, WP_MAX_MEMORY_LIMIT, WP_DEBUG, SCRIPT_DEBUG,"
        " WP_CONTENT_DIR and WP_CACHE.",
        "wp_initial_constants();",
        "",
        "// Register the shutdown handler for fatal errors as soon as possible.",
        "wp_register_fatal_error_handler();",
        "",
        "// WordPress calculates offsets from UTC.",
        "// phpcs:ignore WordPress.DateTime.RestrictedFunctions.timezone_change_date_default_timezone_set",
        "date_default_timezone_set( 'UTC' );",
        "",
        "// Standardize $_SERVER variables across setups.",
        "wp_fix_server_vars();",
        "",
        "// Check if the site is in maintenance mode.",
        "wp_maintenance();",
        "",
        "// Start loading timer.",
        "timer_start();",
        "",
        "// Check if WP_DEBUG mode is enabled.",
        "wp_debug_mode();",
        *_docblock(
            "Filters whether to enable loading of the advanced-cache.php drop-in.",
            "4.6.0",
            "This filter runs before it can be used by plugins. It is designed for non-web",
            "run-times. If false is returned, advanced-cache.php will never be loaded.",
            "",
            "@param bool $enable_advanced_cache Whether to enable loading advanced-cache.php (if present).",
            "                                   Default true.",
        ),
        "if ( WP_CACHE && apply_filters( 'enable_loading_advanced_cache_dropin', true )"
        " && file_exists( WP_CONTENT_DIR . '/advanced-cache.php' ) ) {",
        "\t// For an advanced caching plugin to use. Uses a static drop-in because you would only want one.",
        "\tinclude WP_CONTENT_DIR . '/advanced-cache.php';",
        "",
        "\t// Re-initialize any hooks added manually by advanced-cache.php.",
        "\tif ( $wp_filter ) {",
        "\t\t$wp_filter = WP_Hook::build_preinitialized_hooks( $wp_filter );",
        "\t}",
        "}",
        "",
        "// Define WP_LANG_DIR if not set.",
        "wp_set_lang_dir();",
        "",
        "// Load early WordPress files.",
        *_requires(_BEFORE_L10N),
        "",
        "// Include the wpdb class and, if present, a db.php database drop-in.",
        "global $wpdb;",
        _require(_CACHE[0]),
        "require_wp_db();",
        *_docblock(
            "Stores the database table prefix and sets up the table names.",
            "1.5.0",
            "@global string $table_prefix The database table prefix.",
        ),
        "$GLOBALS['table_prefix'] = $table_prefix;",
        "",
        "// Start the WordPress object cache, or an external object cache if the drop-in is present.",
        *_requires(_CACHE[1:3]),
        "wp_start_object_cache();",
        "",
        "// Attach the default filters.",
        _require(_CACHE[3]),
        "",
        "// Initialize multisite if enabled.",
        "if ( is_multisite() ) {",
        "\trequire ABSPATH . WPINC . '/class-wp-site-query.php';",
        "\trequire ABSPATH . WPINC . '/class-wp-network-query.php';",
        "\trequire ABSPATH . WPINC . '/ms-blogs.php';",
        "\trequire ABSPATH . WPINC . '/ms-settings.php';",
        "} elseif ( ! defined( 'MULTISITE' ) ) {",
        "\tdefine( 'MULTISITE', false );",
        "}",
        "",
        "register_shutdown_function( 'shutdown_action_hook' );",
        "",
        "// Stop most of WordPress from being loaded if SHORTINIT is enabled.",
        "if ( SHORTINIT ) {",
        "\treturn false;",
        "}",
        "",
        "// Load the L10n library.",
        *_requires(_L10N),
        "",
        "// Run the installer if WordPress is not installed.",
        "wp_not_installed();",
        "",
        "// Load most of WordPress.",
    ]
    for comment, files in _CORE_SECTIONS:
        lines += ["", f"// {comment}", *_requires(files)]
    lines += [
        "",
        "add_action( 'after_setup_theme', 'wp_enable_block_templates', 1 );",
        "add_action( 'wp_loaded', '_add_template_loader_filters' );",
        "",
        "// Define constants that rely on the API to obtain the default value.",
        "// Define must-use plugin directory constants, which may be overridden in the sunrise.php drop-in.",
        "wp_plugin_directory_constants();",
        "",
        "$GLOBALS['wp_plugin_paths'] = array();",
        "",
        "// Load must-use plugins.",
        "foreach ( wp_get_mu_plugins() as $mu_plugin ) {",
        "\t$_wp_plugin_file = $mu_plugin;",
        "\tinclude_once $mu_plugin;",
        "\t$mu_plugin = $_wp_plugin_file; // Avoid stomping of the $mu_plugin variable in a plugin.",
        *_docblock(
            "Fires once a single must-use plugin has loaded.",
            "5.1.0",
            "@param string $mu_plugin Full path to the plugin's main file.",
        ),
        "\tdo_action( 'mu_plugin_loaded', $mu_plugin );",
        "}",
        "unset( $mu_plugin, $_wp_plugin_file );",
        *_docblock("Fires once all must-use and network-activated plugins have loaded.", "2.8.0"),
        "do_action( 'muplugins_loaded' );",
        "",
        "// Define constants after multisite is loaded.",
        "wp_cookie_constants();",
        "",
        "// Define and enforce our SSL constants.",
        "wp_ssl_constants();",
        "",
        "// Create common globals.",
        _require(_LATE[0]),
        "",
        "// Make taxonomies and posts available to plugins and themes.",
        "// @plugin authors: warning: these get registered again on the init hook.",
        "create_initial_taxonomies();",
        "create_initial_post_types();",
        "",
        "wp_start_scraping_edited_file_errors();",
        "",
        "// Register the default theme directory root.",
        "register_theme_directory( get_theme_root() );",
        "",
        "if ( ! is_multisite() && wp_is_fatal_error_handler_enabled() ) {",
        "\t// Handle users requesting a recovery mode link and initiating recovery mode.",
        "\twp_recovery_mode()->initialize();",
        "}",
        "",
        "// To make get_plugin_data() available in a way that's compatible with plugins also loading this file.",
        "wp_register_plugin_realpath( WP_CONTENT_DIR . '/plugins' );",
        "",
        "// Load active plugins.",
        "foreach ( wp_get_active_and_valid_plugins() as $plugin ) {",
        "\twp_register_plugin_realpath( $plugin );",
        "",
        "\t$_wp_plugin_file = $plugin;",
        "\tinclude_once $plugin;",
        "\t$plugin = $_wp_plugin_file; // Avoid stomping of the $plugin variable in a plugin.",
        *_docblock(
            "Fires once a single activated plugin has loaded.",
            "5.1.0",
            "@param string $plugin Full path to the plugin's main file.",
        ),
        "\tdo_action( 'plugin_loaded', $plugin );",
        "}",
        "unset( $plugin, $_wp_plugin_file );",
        "",
        "// Load pluggable functions.",
        *_requires(_LATE[1:3]),
        "",
        "// Set internal encoding.",
        "wp_set_internal_encoding();",
        "",
        "// Run wp_cache_postload() if object cache is enabled and the function exists.",
        "if ( WP_CACHE && function_exists( 'wp_cache_postload' ) ) {",
        "\twp_cache_postload();",
        "}",
        *_docblock(
            "Fires once activated plugins have loaded.",
            "1.5.0",
            "Pluggable functions are also available at this point in the loading order.",
        ),
        "do_action( 'plugins_loaded' );",
        "",
        "// Define constants which affect functionality if not already defined.",
        "wp_functionality_constants();",
        "",
        "// Add magic quotes and set up $_REQUEST ( $_GET + $_POST ).",
        "wp_magic_quotes();",
        *_docblock("Fires when comment cookies are sanitized.", "2.0.11"),
        "do_action( 'sanitize_comment_cookies' );",
        *_docblock(
            "WordPress Query object",
            "2.0.0",
            "@global WP_Query $wp_the_query WordPress Query object.",
        ),
        "$GLOBALS['wp_the_query'] = array( 'query_vars' => array() );",
        *_docblock(
            "Holds the reference to {@see $wp_the_query}.",
            "1.5.0",
            "Use this global for WordPress queries",
            "",
            "@global WP_Query $wp_query WordPress Query object.",
        ),
        "$GLOBALS['wp_query'] = $GLOBALS['wp_the_query'];",
        *_docblock(
            "Holds the WordPress Rewrite object for creating pretty URLs",
            "1.5.0",
            "@global WP_Rewrite $wp_rewrite WordPress rewrite component.",
        ),
        "$GLOBALS['wp_rewrite'] = array( 'permalink_structure' => '/%year%/%monthnum%/%postname%/' );",
        *_docblock(
            "WordPress Object",
            "2.0.0",
            "@global WP $wp Current WordPress environment instance.",
        ),
        "$GLOBALS['wp'] = array( 'query_vars' => array(), 'matched_rule' => null );",
        *_docblock(
            "WordPress Widget Factory Object",
            "2.8.0",
            "@global WP_Widget_Factory $wp_widget_factory",
        ),
        "$GLOBALS['wp_widget_factory'] = array();",
        *_docblock(
            "WordPress User Roles",
            "2.0.0",
            "@global WP_Roles $wp_roles WordPress role management object.",
        ),
        "$GLOBALS['wp_roles'] = array( 'administrator', 'editor', 'author', 'contributor', 'subscriber' );",
        *_docblock("Fires before the theme is loaded.", "2.6.0"),
        "do_action( 'setup_theme' );",
        "",
        "// Define the template related constants and globals.",
        "wp_templating_constants();",
        "",
        "// Load the default text localization domain.",
        "load_default_textdomain();",
        "",
        "$locale      = get_locale();",
        '$locale_file = WP_LANG_DIR . "/$locale.php";',
        "if ( ( 0 === validate_file( $locale ) ) && is_readable( $locale_file ) ) {",
        "\trequire $locale_file;",
        "}",
        "unset( $locale_file );",
        "",
        "// Pull in locale data after loading text domain.",
        _require(_LATE[3]),
        *_docblock(
            "WordPress Locale object for loading locale domain date and various strings.",
            "2.1.0",
            "@global WP_Locale $wp_locale WordPress date and time locale object.",
        ),
        "$GLOBALS['wp_locale'] = new WP_Locale();",
        *_docblock(
            "WordPress Locale Switcher object for switching locales.",
            "4.7.0",
            "@global WP_Locale_Switcher $wp_locale_switcher WordPress locale switcher object.",
        ),
        "$GLOBALS['wp_locale_switcher'] = array( 'locales' => array( $locale ) );",
        "",
        "// Load the functions for the active theme, for both parent and child theme if applicable.",
        "foreach ( wp_get_active_and_valid_themes() as $theme ) {",
        "\tif ( file_exists( $theme . '/functions.php' ) ) {",
        "\t\tinclude $theme . '/functions.php';",
        "\t}",
        "}",
        "unset( $theme );",
        *_docblock("Fires after the theme is loaded.", "3.0.0"),
        "do_action( 'after_setup_theme' );",
        "",
        "// Create an instance of WP_Site_Health so that Cron events may fire.",
        "if ( ! class_exists( 'WP_Site_Health' ) ) {",
        "\t$GLOBALS['wp_lab_site_health'] = 'deferred';",
        "}",
        "",
        "// Set up current user.",
        "$GLOBALS['wp']['current_user'] = 0;",
        *_docblock(
            "Fires after WordPress has finished loading but before any headers are sent.",
            "1.5.0",
            "Most of WP is loaded at this stage, and the user is authenticated. WP continues",
            "to load on the {@see 'init'} hook that follows (e.g. widgets), and many plugins instantiate",
            "themselves on it for all sorts of reasons (e.g. they need a user, a taxonomy, etc.).",
            "",
            "If you wish to plug an action once WP is loaded, use the {@see 'wp_loaded'} hook below.",
        ),
        "do_action( 'init' );",
        "",
        "// Check site status.",
        "if ( is_multisite() ) {",
        "\t$file = ms_site_check();",
        "\tif ( true !== $file ) {",
        "\t\trequire $file;",
        "\t\tdie();",
        "\t}",
        "\tunset( $file );",
        "}",
        *_docblock(
            "This hook is fired once WP, all plugins, and the theme are fully loaded and instantiated.",
            "3.0.0",
            "Ajax requests should use wp-admin/admin-ajax.php. admin-ajax.php can handle requests for",
            "users not logged in.",
            "",
            "@link https://codex.wordpress.org/AJAX_in_Plugins",
        ),
        "do_action( 'wp_loaded' );",
        "",
    ]
    return "\n".join(lines).encode()


# --- the small PHP files around it -----------------------------------------------------------------

# Functions that wp-settings.php calls, defined by the stub of the file that defines them in WordPress.
_STUB_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "load.php": (
        "wp_check_php_mysql_versions",
        "wp_fix_server_vars",
        "wp_maintenance",
        "timer_start",
        "wp_debug_mode",
        "wp_set_lang_dir",
        "require_wp_db",
        "wp_start_object_cache",
        "wp_not_installed",
        "wp_get_mu_plugins",
        "wp_get_active_and_valid_plugins",
        "wp_set_internal_encoding",
        "wp_magic_quotes",
        "wp_get_active_and_valid_themes",
        "wp_start_scraping_edited_file_errors",
        "wp_is_fatal_error_handler_enabled",
        "wp_register_fatal_error_handler",
        "is_multisite",
        "shutdown_action_hook",
    ),
    "default-constants.php": (
        "wp_plugin_directory_constants",
        "wp_cookie_constants",
        "wp_ssl_constants",
        "wp_functionality_constants",
        "wp_templating_constants",
    ),
    "plugin.php": ("wp_register_plugin_realpath",),
    "taxonomy.php": ("create_initial_taxonomies",),
    "post.php": ("create_initial_post_types",),
    "theme.php": ("register_theme_directory", "get_theme_root"),
    "l10n.php": ("load_default_textdomain", "get_locale"),
    "functions.php": ("validate_file",),
}
# Stub functions whose result the caller uses.
_STUB_RESULTS = {
    "wp_get_mu_plugins": "array()",
    "wp_get_active_and_valid_plugins": "array()",
    "wp_get_active_and_valid_themes": "array()",
    "wp_is_fatal_error_handler_enabled": "false",
    "is_multisite": "false",
    "get_theme_root": "WP_CONTENT_DIR . '/themes'",
    "get_locale": "'en_US'",
    "validate_file": "0",
}
_PLUGIN_API = """
function add_action( $hook_name, $callback, $priority = 10, $accepted_args = 1 ) {
\t$GLOBALS['wp_lab_hooks'][ $hook_name ][] = $callback;
\treturn true;
}

function do_action( $hook_name, ...$arg ) {
\t$GLOBALS['wp_lab_actions'][] = $hook_name;
}

function apply_filters( $hook_name, $value, ...$args ) {
\treturn $value;
}
"""
_DEFAULT_CONSTANTS = """
function wp_initial_constants() {
\tforeach ( array(
\t\t'WP_MEMORY_LIMIT'     => '40M',
\t\t'WP_MAX_MEMORY_LIMIT' => '256M',
\t\t'WP_CONTENT_DIR'      => ABSPATH . 'wp-content',
\t\t'WP_DEBUG'            => false,
\t\t'WP_CACHE'            => false,
\t\t'SCRIPT_DEBUG'        => false,
\t\t'SHORTINIT'           => false,
\t\t'WP_LANG_DIR'         => ABSPATH . 'wp-content/languages',
\t) as $name => $value ) {
\t\tif ( ! defined( $name ) ) {
\t\t\tdefine( $name, $value );
\t\t}
\t}
}
"""
_WP_LOCALE = """
class WP_Locale {
\tpublic $weekday = array( 'Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday' );
\tpublic $text_direction = 'ltr';
}
"""


def _stub(relative: str) -> bytes:
    parts = [
        "<?php",
        "/**",
        f" * WordPress-like lab stub for wp-includes/{relative}.",
        " *",
        " * @package WordPress",
        " */",
        "",
        f"$GLOBALS['wp_lab_loaded'][] = '{relative}';",
    ]
    for name in _STUB_FUNCTIONS.get(relative, ()):
        result = _STUB_RESULTS.get(name)
        body = f"\treturn {result};" if result else "\t$GLOBALS['wp_lab_actions'][] = __FUNCTION__;"
        parts += ["", f"function {name}( ...$args ) {{", body, "}"]
    extra = {
        "plugin.php": _PLUGIN_API,
        "default-constants.php": _DEFAULT_CONSTANTS,
        "class-wp-locale.php": _WP_LOCALE,
    }.get(relative)
    if extra:
        parts.append(extra.rstrip("\n"))
    return ("\n".join(parts) + "\n").encode()


_INDEX_PHP = f"""<?php
/**
 * Front to the WordPress-like lab application. Loads the configuration and wp-settings.php,
 * then greets; any fatal error on the way answers HTTP 500 (the server runs with display_errors=0).
 *
 * @package WordPress
 */

define( 'WP_USE_THEMES', true );

if ( ! defined( 'ABSPATH' ) ) {{
\tdefine( 'ABSPATH', __DIR__ . '/' );
}}

require_once ABSPATH . 'wp-config.php';
require_once ABSPATH . 'wp-settings.php';

$lab_host = getenv( 'LAB_HOST_NAME' ) ?: gethostname();
header( 'Content-Type: text/plain; charset=UTF-8' );
printf( "{GREETING} host %s: %d files loaded, WordPress %s\\n", $lab_host,
\tcount( $GLOBALS['wp_lab_loaded'] ), $wp_version );
"""

_WP_CONFIG_PHP = """<?php
/**
 * The base configuration for the WordPress-like lab site.
 *
 * @package WordPress
 */

// ** Database settings ** //
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', 'wordpress' );
define( 'DB_PASSWORD', 'lab-db-password-not-a-secret' );
define( 'DB_HOST', 'localhost' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );

/**#@+
 * Authentication unique keys and salts.
 */
define( 'AUTH_KEY',         'lab-auth-key-0123456789abcdef' );
define( 'SECURE_AUTH_KEY',  'lab-secure-auth-key-0123456789abcdef' );
define( 'LOGGED_IN_KEY',    'lab-logged-in-key-0123456789abcdef' );
define( 'NONCE_KEY',        'lab-nonce-key-0123456789abcdef' );
/**#@-*/

$table_prefix = 'wp_';

define( 'WP_DEBUG', false );
"""

_VERSION_PHP = """<?php
/**
 * WordPress Version
 *
 * Contains version information for the current WordPress release.
 *
 * @package WordPress
 * @since 1.2.0
 */

$GLOBALS['wp_lab_loaded'][] = 'version.php';

$wp_version = '6.5.5';
$wp_db_version = 57155;
$tinymce_version = '49110-20201110';
$required_php_version = '7.0.0';
$required_mysql_version = '5.5.5';
"""

_HTACCESS = """# BEGIN WordPress
<IfModule mod_rewrite.c>
RewriteEngine On
RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]
RewriteBase /
RewriteRule ^index\\.php$ - [L]
RewriteCond %{REQUEST_FILENAME} !-f
RewriteCond %{REQUEST_FILENAME} !-d
RewriteRule . /index.php [L]
</IfModule>
# END WordPress
"""

_SILENCE = "<?php\n// Silence is golden.\n"

# --- /etc/apache2 -------------------------------------------------------------------------------

_APACHE2_CONF = """# This is the main Apache server configuration file (lab host, Debian layout).
# See /usr/share/doc/apache2/README.Debian.gz for the split into the *-enabled folders.

DefaultRuntimeDir ${APACHE_RUN_DIR}
PidFile ${APACHE_PID_FILE}
Timeout 300
KeepAlive On
MaxKeepAliveRequests 100
KeepAliveTimeout 5

User ${APACHE_RUN_USER}
Group ${APACHE_RUN_GROUP}

HostnameLookups Off
ErrorLog ${APACHE_LOG_DIR}/error.log
LogLevel warn

IncludeOptional mods-enabled/*.load
IncludeOptional mods-enabled/*.conf

Include ports.conf

<Directory />
\tOptions FollowSymLinks
\tAllowOverride None
\tRequire all denied
</Directory>

<Directory /usr/share>
\tAllowOverride None
\tRequire all granted
</Directory>

<Directory /var/www/>
\tOptions Indexes FollowSymLinks
\tAllowOverride None
\tRequire all granted
</Directory>

AccessFileName .htaccess

<FilesMatch "^\\.ht">
\tRequire all denied
</FilesMatch>

LogFormat "%v:%p %h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" \\"%{User-Agent}i\\"" vhost_combined
LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" \\"%{User-Agent}i\\"" combined
LogFormat "%h %l %u %t \\"%r\\" %>s %O" common

IncludeOptional conf-enabled/*.conf
IncludeOptional sites-enabled/*.conf
"""

_PORTS_CONF = """# If you just change the port or add more ports here, you will likely also
# have to change the VirtualHost statement in /etc/apache2/sites-enabled/000-default.conf

Listen 80

<IfModule ssl_module>
\tListen 443
</IfModule>
"""

_ENVVARS = """# envvars - default environment variables for apache2ctl

export APACHE_RUN_USER=www-data
export APACHE_RUN_GROUP=www-data
export APACHE_PID_FILE=/var/run/apache2/apache2.pid
export APACHE_RUN_DIR=/var/run/apache2
export APACHE_LOCK_DIR=/var/lock/apache2
export APACHE_LOG_DIR=/var/log/apache2
export LANG=C
"""

_DEFAULT_SITE = """<VirtualHost *:80>
\t# The ServerName directive sets the request scheme, hostname and port that
\t# the server uses to identify itself.
\t#ServerName www.example.com

\tServerAdmin webmaster@localhost
\tDocumentRoot /var/www/html

\t<Directory /var/www/html>
\t\tAllowOverride All
\t</Directory>

\tErrorLog ${APACHE_LOG_DIR}/error.log
\tCustomLog ${APACHE_LOG_DIR}/access.log combined
</VirtualHost>
"""

_SECURITY_CONF = """# Changing the following options will not really affect the security of the
# server, but might make attacks slightly more difficult in some cases.

ServerTokens OS
ServerSignature On
TraceEnable Off
"""


def _file(path: str, text: str | bytes, mode: int = 0o644, uid: int = 0, gid: int = 0) -> TreeEntry:
    data = text.encode() if isinstance(text, str) else text
    return TreeEntry(path, "file", mode, uid, gid, data)


def _dir(path: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> TreeEntry:
    return TreeEntry(path, "dir", mode, uid, gid)


def _docroot() -> list[TreeEntry]:
    www_uid, www_gid = _www_data_ids()
    entries = [
        _dir("/var/www"),
        _dir(DOCROOT),
        _file(f"{DOCROOT}/index.php", _INDEX_PHP),
        _file(f"{DOCROOT}/wp-config.php", _WP_CONFIG_PHP, 0o640, 0, www_gid),
        _file(WP_SETTINGS, wp_settings_php()),
        _file(f"{DOCROOT}/.htaccess", _HTACCESS),
        _dir(f"{DOCROOT}/wp-content"),
        _file(f"{DOCROOT}/wp-content/index.php", _SILENCE),
        _dir(f"{DOCROOT}/wp-content/plugins"),
        _dir(f"{DOCROOT}/wp-content/themes"),
        _dir(f"{DOCROOT}/wp-content/uploads", 0o755, www_uid, www_gid),
        _dir(f"{DOCROOT}/wp-includes"),
    ]
    made = {f"{DOCROOT}/wp-includes"}
    for relative in include_files():
        path = f"{DOCROOT}/wp-includes/{relative}"
        parent = path.rsplit("/", 1)[0]
        missing = []
        while parent not in made:
            missing.append(parent)
            parent = parent.rsplit("/", 1)[0]
        for folder in reversed(missing):
            entries.append(_dir(folder))
            made.add(folder)
        entries.append(_file(path, _VERSION_PHP if relative == "version.php" else _stub(relative)))
    return entries


def _apache() -> list[TreeEntry]:
    return [
        _dir("/etc/apache2"),
        _file("/etc/apache2/apache2.conf", _APACHE2_CONF),
        _file("/etc/apache2/ports.conf", _PORTS_CONF),
        _file("/etc/apache2/envvars", _ENVVARS),
        _dir("/etc/apache2/conf-available"),
        _file("/etc/apache2/conf-available/security.conf", _SECURITY_CONF),
        _dir("/etc/apache2/conf-enabled"),
        TreeEntry("/etc/apache2/conf-enabled/security.conf", "symlink", 0o777, data=b"../conf-available/security.conf"),
        _dir("/etc/apache2/mods-available"),
        _dir("/etc/apache2/mods-enabled"),
        _dir("/etc/apache2/sites-available"),
        _file("/etc/apache2/sites-available/000-default.conf", _DEFAULT_SITE),
        _dir("/etc/apache2/sites-enabled"),
        TreeEntry(
            "/etc/apache2/sites-enabled/000-default.conf", "symlink", 0o777, data=b"../sites-available/000-default.conf"
        ),
    ]


# --- /etc/apache2 of a lab with Apache --------------------------------------------------------------


@dataclass(frozen=True)
class ApacheBuild:
    """What the working Apache config needs from this machine: mod_php's shared object."""

    php_module: str  # e.g. /usr/lib/apache2/modules/libphp8.2.so (libapache2-mod-php)

    @property
    def php_module_name(self) -> str:
        """Debian's name for the module's files: libphp8.2.so -> php8.2 (mods-available/php8.2.load)."""
        match = re.fullmatch(r"lib(php[0-9.]*)\.so", self.php_module.rsplit("/", 1)[-1])
        return match.group(1) if match else "php"


_MODULES_DIR = "/usr/lib/apache2/modules"

# name -> (.load text, .conf text or None), as Debian ships them (mpm_prefork tuned down, see below).
_MPM_PREFORK_CONF = """# prefork MPM (lab host: few processes, since a lab runs many hosts on a small machine)
# StartServers: number of server processes to start
# MinSpareServers: minimum number of server processes which are kept spare
# MaxSpareServers: maximum number of server processes which are kept spare
# MaxRequestWorkers: maximum number of server processes allowed to start
# MaxConnectionsPerChild: maximum number of requests a server process serves

StartServers            1
MinSpareServers         1
MaxSpareServers         2
MaxRequestWorkers       10
MaxConnectionsPerChild  0
"""
_DIR_CONF = """<IfModule mod_dir.c>
	DirectoryIndex index.html index.cgi index.pl index.php index.xhtml index.htm
</IfModule>
"""
_MIME_CONF = """<IfModule mod_mime.c>
	# TypesConfig points to the file containing the list of mappings from
	# filename extension to MIME-type.
	TypesConfig /etc/mime.types

	AddType application/x-compress .Z
	AddType application/x-gzip .gz .tgz
	AddType application/x-bzip2 .bz2
	AddCharset UTF-8 .utf8
	AddType text/html .shtml
</IfModule>
"""
_PHP_CONF = """# Using (?:pattern) instead of (pattern) is a small optimization that
# avoid capturing the matching pattern (as $1) which isn't used here
<FilesMatch ".+\\.ph(?:ar|p|tml)$">
    SetHandler application/x-httpd-php
</FilesMatch>
<FilesMatch ".+\\.phps$">
    SetHandler application/x-httpd-php-source
    # Deny access to raw php sources by default
    # To re-enable it's recommended to enable access to the files
    # only in specific virtual host or directory
    Require all denied
</FilesMatch>
# Deny access to files without filename (e.g. '.php')
<FilesMatch "^\\.ph(?:ar|p|ps|tml)$">
    Require all denied
</FilesMatch>

# Lab host: no OPcache, so that a fixed (or restored) PHP file takes effect on the next request rather
# than up to opcache.revalidate_freq seconds later (the lab's PHP server runs without it too).
php_admin_flag opcache.enable Off
"""


def _apache_modules(build: ApacheBuild) -> tuple[tuple[str, str, str | None], ...]:
    """(Debian name, .load text, .conf text or None) of every module the lab's Apache loads."""

    def load(module: str, so: str, note: str = "") -> str:
        return f"{note}LoadModule {module}_module {_MODULES_DIR}/{so}\n"

    return (
        ("mpm_prefork", load("mpm_prefork", "mod_mpm_prefork.so", "# Conflicts: mpm_event mpm_worker\n"),
         _MPM_PREFORK_CONF),
        ("authz_core", load("authz_core", "mod_authz_core.so"), None),
        ("dir", load("dir", "mod_dir.so"), _DIR_CONF),
        ("mime", load("mime", "mod_mime.so"), _MIME_CONF),
        ("headers", load("headers", "mod_headers.so"), None),
        (build.php_module_name,
         f"# Conflicts: php5\n# Depends: mpm_prefork\nLoadModule php_module {build.php_module}\n", _PHP_CONF),
    )  # fmt: skip


def _envvars(host_name: str) -> str:
    return f"""# envvars - default environment variables for apache2ctl (lab host {host_name})

# this won't be correct after changing uid
unset HOME

# Lab host: /run and /var/log are shared by every lab host, its /run/lock and /tmp are its own. So the
# pid file, run and lock directories and logs live there, and apache2ctl on this host acts on this
# host's Apache only.
export APACHE_RUN_USER=www-data
export APACHE_RUN_GROUP=www-data
export APACHE_PID_FILE={APACHE_PID_FILE}
export APACHE_RUN_DIR={APACHE_RUN_DIR}
export APACHE_LOCK_DIR={APACHE_LOCK_DIR}
export APACHE_LOG_DIR={APACHE_LOG_DIR}
# The site greets with this name (PHP's getenv falls back to the server's environment).
export LAB_HOST_NAME={host_name}

## The locale used by some modules like mod_dav
export LANG=C

export LANG
"""


def _ports_conf(address: str) -> str:
    return f"""# If you just change the port or add more ports here, you will likely also
# have to change the VirtualHost statement in /etc/apache2/sites-enabled/000-default.conf

# Lab host: its own loopback address only; the other lab hosts listen on theirs.
Listen {address}:80
"""


def apache_host_files(host_name: str, address: str) -> tuple[TreeEntry, ...]:
    """The files of a lab host with Apache that differ from host to host (not in the shared tree)."""
    return (
        _file("/etc/apache2/envvars", _envvars(host_name)),
        _file("/etc/apache2/ports.conf", _ports_conf(address)),
        _file("/etc/apache2/conf-available/servername.conf", f"ServerName {host_name}\n"),
    )


def _link(path: str, target: str) -> TreeEntry:
    return TreeEntry(path, "symlink", 0o777, data=target.encode())


def _apache_working(build: ApacheBuild) -> list[TreeEntry]:
    entries = [
        _dir("/etc/apache2"),
        _file("/etc/apache2/apache2.conf", _APACHE2_CONF),
        _dir("/etc/apache2/conf-available"),
        _dir("/etc/apache2/conf-enabled"),
        _dir("/etc/apache2/mods-available"),
        _dir("/etc/apache2/mods-enabled"),
        _dir("/etc/apache2/sites-available"),
        _dir("/etc/apache2/sites-enabled"),
        _file("/etc/apache2/conf-available/security.conf", _SECURITY_CONF),
        _link("/etc/apache2/conf-enabled/security.conf", "../conf-available/security.conf"),
        _link("/etc/apache2/conf-enabled/servername.conf", "../conf-available/servername.conf"),
        _file("/etc/apache2/sites-available/000-default.conf", _DEFAULT_SITE),
        _link("/etc/apache2/sites-enabled/000-default.conf", "../sites-available/000-default.conf"),
    ]
    for name, load, conf in _apache_modules(build):
        entries.append(_file(f"/etc/apache2/mods-available/{name}.load", load))
        entries.append(_link(f"/etc/apache2/mods-enabled/{name}.load", f"../mods-available/{name}.load"))
        if conf is not None:
            entries.append(_file(f"/etc/apache2/mods-available/{name}.conf", conf))
            entries.append(_link(f"/etc/apache2/mods-enabled/{name}.conf", f"../mods-available/{name}.conf"))
    # Parents before children, as _write_tree needs.
    return sorted(entries, key=lambda entry: (entry.path.count("/"), entry.kind != "dir", entry.path))


@cache
def pristine_tree(apache: ApacheBuild | None = None) -> tuple[TreeEntry, ...]:
    """Every entry under :data:`BOUND_DIRS`, the bound folders first, parents before children.

    With ``apache``: the working Apache config and the health file, without the files of
    :func:`apache_host_files`; this is the part every host shares, :func:`host_pristine_tree` is one
    host's whole tree.
    """
    docroot = _docroot()
    if apache is not None:
        docroot.append(_file(HEALTH_FILE, HEALTH_TEXT))
    return (
        *docroot,
        *(_apache() if apache is None else _apache_working(apache)),
        _dir("/var/backups"),
        _dir("/tmp", 0o1777),
        _dir("/run/lock", 0o1777),
        _dir("/run/remediate", 0o700),
    )


def host_pristine_tree(host_name: str, address: str, apache: ApacheBuild | None = None) -> tuple[TreeEntry, ...]:
    """One host's whole pristine tree: the shared tree with the host's own files in place."""
    shared = pristine_tree(apache)
    return shared if apache is None else (*shared, *apache_host_files(host_name, address))
