<?php
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
