<?php
/**
 * WordPress-like lab stub for wp-includes/rest-api/class-wp-rest-request.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'rest-api/class-wp-rest-request.php';
