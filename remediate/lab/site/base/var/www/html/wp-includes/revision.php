<?php
/**
 * WordPress-like lab stub for wp-includes/revision.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'revision.php';
