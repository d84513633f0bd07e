<?php
/**
 * WordPress-like lab stub for wp-includes/rest-api/fields/class-wp-rest-comment-meta-fields.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'rest-api/fields/class-wp-rest-comment-meta-fields.php';
