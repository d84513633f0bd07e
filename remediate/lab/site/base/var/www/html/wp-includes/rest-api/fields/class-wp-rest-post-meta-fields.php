<?php
/**
 * WordPress-like lab stub for wp-includes/rest-api/fields/class-wp-rest-post-meta-fields.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'rest-api/fields/class-wp-rest-post-meta-fields.php';
