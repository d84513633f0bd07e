<?php
/**
 * WordPress-like lab stub for wp-includes/rest-api.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'rest-api.php';
